from django.shortcuts import render


def index(request):
    return render(request, "library/index.html", {"tracks": []})


def samples(request):
    return render(request, "library/samples.html", {"samples": []})
