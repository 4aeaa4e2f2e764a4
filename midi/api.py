"""REST API for MIDI clips and lyrics. Every queryset is the caller's own: another user's object is a 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from core.api import TRACK_PARAM, filter_by_track
from jobs.api import start_job_response
from jobs.serializers import JobSerializer
from midi import services as midi_services
from midi.models import MidiClip
from midi.serializers import MidiClipDetailSerializer, MidiClipSerializer, MidiRequestSerializer
from midi.services import do_request_midi
from stems.api import StemActionsViewSet
from tracks.api import TrackActionsViewSet


def midi_response(request, track, stem=None):
    return start_job_response(request, MidiRequestSerializer, do_request_midi, track, stem=stem)


class MidiClipViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """MIDI made from your tracks and stems. The detail holds the notes; file_url is the .mid file."""

    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MidiClip.objects.none()
        queryset = MidiClip.objects.for_user(self.request.user)
        if self.action == "list":
            queryset = filter_by_track(queryset.defer("notes"), self.request.query_params)
        return queryset

    def get_serializer_class(self):
        return MidiClipDetailSerializer if self.action == "retrieve" else MidiClipSerializer

    @extend_schema(parameters=[TRACK_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_destroy(self, instance):
        midi_services.do_delete_midi(instance)


class TrackMidiViewSet(TrackActionsViewSet):
    @extend_schema(request=MidiRequestSerializer, responses={202: JobSerializer}, summary="Convert the mix to MIDI")
    @action(detail=True, methods=["post"])
    def midi(self, request, pk=None):
        return midi_response(request, self.get_object())


class StemMidiViewSet(StemActionsViewSet):
    @extend_schema(request=MidiRequestSerializer, responses={202: JobSerializer}, summary="Convert to MIDI")
    @action(detail=True, methods=["post"])
    def midi(self, request, pk=None):
        stem = self.get_object()
        return midi_response(request, stem.track, stem)
