import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from stemcrate.settings import env


class Command(BaseCommand):
    help = (
        "Create the first admin user when there is none. Credentials come from ADMIN_USERNAME, ADMIN_EMAIL "
        "and ADMIN_PASSWORD, or a password is generated and printed once."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = env("ADMIN_USERNAME", "admin")
        email = env("ADMIN_EMAIL", "admin@localhost")
        password = env("ADMIN_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    "\nCreated the first admin user. This password is shown only once:\n"
                    f"    username: {username}\n    password: {password}\n"
                    "Change it at /accounts/password/change/ after logging in.\n"
                )
            )
        else:
            self.stdout.write(f"Created the first admin user {username!r} from ADMIN_USERNAME/ADMIN_PASSWORD.")
