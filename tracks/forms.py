from django import forms

from tracks.models import Track


class TrackMetaForm(forms.ModelForm):
    class Meta:
        model = Track
        fields = ["title", "artist", "album"]
        widgets = {
            "title": forms.TextInput(attrs={"autocomplete": "off"}),
            "artist": forms.TextInput(attrs={"autocomplete": "off"}),
            "album": forms.TextInput(attrs={"autocomplete": "off"}),
        }
