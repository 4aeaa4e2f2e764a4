from django.urls import path

from jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.jobs, name="jobs"),
    path("<uuid:job_id>/row", views.job_row, name="job_row"),
    path("<uuid:job_id>/group", views.job_group, name="job_group"),
    path("<uuid:job_id>/cancel", views.job_cancel, name="job_cancel"),
    path("<uuid:job_id>/retry", views.job_retry, name="job_retry"),
]
