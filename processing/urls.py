from django.urls import path

from . import views

app_name = "processing"
urlpatterns = [
    path("", views.jobs, name="jobs"),
]
