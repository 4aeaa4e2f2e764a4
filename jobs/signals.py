"""What the job system tells the apps above it; it imports none of them.

job_changed is sent (with `job_id`) after a job ended in any way (succeeded, failed, cancelled) or was queued
again by a retry; pipelines listen to it to start their next steps.
"""

from django.dispatch import Signal

job_changed = Signal()
