import uuid

from django.db import models


class QueuePing(models.Model):
    """A diagnostic round trip through the queue: the web side creates it, a worker stamps it.

    `python manage.py queue_ping` uses it to prove that each queue is consumed end to end, which a heartbeat
    alone cannot show (a worker can be alive yet unable to reach the database).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    queue = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        state = f"handled by {self.handled_by}" if self.handled_at else "waiting"
        return f"ping on {self.queue} ({state})"
