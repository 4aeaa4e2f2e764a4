from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import ApiTokenForm
from accounts.models import ApiToken
from core.quotas import usage


def _get_token_for_user(request, token_id) -> ApiToken:
    return get_object_or_404(ApiToken, pk=token_id, user=request.user)


def profile(request):

    return render(
        request,
        "accounts/profile.html",
        {
            "tokens": request.user.api_tokens.all(),
            "form": ApiTokenForm(),
            "new_key": None,
            "usage": usage(request.user),
        },
    )


@require_POST
def token_create(request):
    form = ApiTokenForm(request.POST)
    new_key = None
    if form.is_valid():
        token, new_key = services.do_create_api_token(request.user, form.cleaned_data["name"])
        messages.success(request, f"Token “{token.name}” created. Copy it now: it will not be shown again.")
        form = ApiTokenForm()
    context = {"tokens": request.user.api_tokens.all(), "form": form, "new_key": new_key}
    template = "accounts/profile.html#tokens" if request.htmx else "accounts/profile.html"
    return render(request, template, context, status=200 if new_key or form.is_valid() else 400)


@require_POST
def token_revoke(request, token_id):
    token = _get_token_for_user(request, token_id)
    name = token.name
    services.do_revoke_api_token(token)
    messages.success(request, f"Token “{name}” revoked. Scripts using it can no longer sign in.")
    if request.htmx:
        context = {"tokens": request.user.api_tokens.all(), "form": ApiTokenForm(), "new_key": None}
        return render(request, "accounts/profile.html#tokens", context)
    return redirect("accounts:profile")
