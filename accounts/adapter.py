from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # An installation can be closed to new sign-ups (ACCOUNT_ALLOW_SIGNUPS=0); the admin still adds users.
        return settings.ACCOUNT_ALLOW_SIGNUPS
