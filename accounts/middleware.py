from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpResponse

from accounts.services import authenticate_api_key

MEDIA_PREFIX = "/media/"


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a login unless its view is marked @login_not_required (allauth's views are).

    The REST API is left to DRF: it authenticates tokens itself and answers 401/403 rather than redirecting
    a script to an HTML login form. Media URLs (the audio_url, file_url and download_url the API hands out)
    also accept `Authorization: Token <key>`, so a script can fetch what the API points it to; the media
    views still check that the user owns the object.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        if request.path_info.startswith(MEDIA_PREFIX) and "HTTP_AUTHORIZATION" in request.META:
            refused = self._token_user(request)
            if refused is not None:
                return refused
        return super().process_view(request, view_func, view_args, view_kwargs)

    @staticmethod
    def _token_user(request):

        keyword, _, key = request.META["HTTP_AUTHORIZATION"].partition(" ")
        if keyword != "Token":
            return None  # not ours: the session (if any) decides
        token = authenticate_api_key(key.strip())
        if token is None:
            response = HttpResponse("Invalid or revoked API token.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = "Token"
            return response
        request.user = token.user
        return None
