"""A minimal Django project serving Django's own auth views, for nocall's real-world check.

The forms, their labels and field markup, and the password-reset pages are Django's (the
reset pages use the templates django.contrib.admin ships). This file only wires them up:
login, logout, password reset (with its confirm/complete pages), a sign-up page built on
django.contrib.auth.forms.UserCreationForm, and a home page that greets a signed-in user.
Nothing here is tuned for nocall.

Usage: python site.py migrate | runserver 127.0.0.1:PORT --noreload
Data (SQLite) goes to $NOCALL_DJANGO_DATA (a temporary folder by default).
Mail: printed on the console, or sent to $NOCALL_SMTP (host:port) when set.
"""

import os
import sys
import tempfile
from pathlib import Path

from django.conf import settings

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("NOCALL_DJANGO_DATA") or tempfile.mkdtemp(prefix="nocall-django-"))
SMTP = os.environ.get("NOCALL_SMTP", "")

settings.configure(
    DEBUG=True,
    SECRET_KEY="nocall-realworld-check-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [HERE / "templates"],
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA / "db.sqlite3"}},
    STATIC_URL="static/",
    AUTH_PASSWORD_VALIDATORS=[
        {"NAME": f"django.contrib.auth.password_validation.{v}"}
        for v in (
            "UserAttributeSimilarityValidator",
            "MinimumLengthValidator",
            "CommonPasswordValidator",
            "NumericPasswordValidator",
        )
    ],
    LOGIN_REDIRECT_URL="/",
    LOGOUT_REDIRECT_URL="/",
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
    EMAIL_BACKEND=(
        "django.core.mail.backends.smtp.EmailBackend"
        if SMTP
        else "django.core.mail.backends.console.EmailBackend"
    ),
    EMAIL_HOST=SMTP.rpartition(":")[0] or "127.0.0.1",
    EMAIL_PORT=int(SMTP.rpartition(":")[2] or 25),
    DEFAULT_FROM_EMAIL="accounts@example.test",
)

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth.forms import UserCreationForm  # noqa: E402
from django.urls import include, path, reverse_lazy  # noqa: E402
from django.views.generic import CreateView, TemplateView  # noqa: E402

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path(
        "accounts/signup/",
        CreateView.as_view(
            form_class=UserCreationForm,
            template_name="registration/signup.html",
            success_url=reverse_lazy("login"),
        ),
        name="signup",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
