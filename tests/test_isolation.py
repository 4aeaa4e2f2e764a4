"""Isolation, proven for every route: nobody but the owner can read, change or delete what a user owns.

The test walks every URL pattern Django knows (pages, API, media, exports, jobs, account, admin), fills each
parameter with an object of the owner's, and sends every method as another user (signed in, with and without
htmx, and with an API token) and as an anonymous visitor. Only a 404 (or a 405 for a method the route lacks; see
JUSTIFIED for the one other answer) is acceptable to another user; an anonymous visitor may also be sent to the
login page or get 401/403. No response may contain the owner's ids or names, nothing may 500, and after each route
the owner's data must be exactly as it was, with no one else's rows pointing at it.

The other user's own objects are walked too, with the owner's ids in the request body (add the owner's track to
my collection, slice the owner's stem on my track), and so are the lists, searches and bulk actions; the admin is
walked on its own terms. Object ids in URLs must be UUIDs matched by the uuid converter.

A new route is covered the moment it is added: a parameter this file cannot fill fails the test and says to add
it to PARAMS (or API_BASENAMES for a router's `pk`, ROUTE_PARAMS for one route's own). Routes are left out only
through SKIPPED, each with why.
"""

import contextlib
import itertools
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern

from jobs.services import run_inline
from lyrics.formats import LYRICS_FORMATS
from tests.isolation_fixtures import build_library, ids_of, references_to, snapshot, word

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WRITES = ("POST", "PUT", "PATCH")

# URL parameter -> the owner's object it names (keys of Library.objects; "jobs": one job of each status).
PARAMS = {
    "track_id": "track",
    "stem_id": "stem",
    "set_id": "stem_set",
    "sample_id": "sample",
    "clip_id": "clip",
    "lyrics_id": "lyrics",
    "export_id": "export",
    "collection_id": "collection",
    "job_id": "jobs",
    "pipeline_id": "pipeline",
    "token_id": "token",
}
# A parameter that names fewer of the owner's objects on one route than PARAMS says: route -> {parameter: source}.
ROUTE_PARAMS = {
    # A job's group row (the Jobs page's pipeline row): only a job that is a step of a pipeline is in a group.
    "jobs:job_group": {"job_id": "pipeline_jobs"},
}
# A router's `pk`: the router basename -> the object.
API_BASENAMES = {
    "token": "token",
    "track": "track",
    "stem": "stem",
    "sample": "sample",
    "midi": "clip",
    "lyrics": "lyrics",
    "export": "export",
    "tag": "tag",
    "collection": "collection",
    "job": "jobs",
    "pipeline": "pipeline",
    # Actions other apps add on a track or a stem (stemcrate/urls.py registers them beside the track's own).
    "track-stems": "track",
    "track-slice": "track",
    "track-midi": "track",
    "track-lyrics": "track",
    "track-process": "track",
    "stem-slice": "stem",
    "stem-midi": "stem",
    "stem-lyrics": "stem",
}
# Parameters that name no object: the values to try.
VALUES = {"fmt": tuple(LYRICS_FORMATS)}

# Left out of the walk, and why. Everything else is walked. (Static files are served by WhiteNoise's middleware
# and user media only through the owner-checked views walked here: neither has a URL pattern to leave out.)
SKIPPED = {
    # A liveness probe with no user data, public on purpose (tests/test_healthz.py).
    "healthz": lambda route: route.name == "healthz",
    # django-allauth's sign-in, sign-up, password and e-mail pages: public by design, and the ones with
    # parameters take one-time keys, not object ids (tests/test_auth_flows.py).
    "allauth": lambda route: route.callback.__module__.startswith("allauth."),
    # Django's admin: walked on its own terms by _walk_admin (it sends everyone but staff to its login).
    "admin": lambda route: route.is_admin,
}
# Answered without a login by design: the token exchange takes a username and password.
PUBLIC = {"api:token"}
# Statuses other than 404/405 that another user may get, and why. Nothing else is allowed.
JUSTIFIED = {
    # DRF answers OPTIONS with the view's own metadata (name, description, parsers, renderers) whoever asks;
    # its determine_actions() looks the object up and leaves the actions out on a 404, so nothing of the object
    # is in it (the leak check below reads every body).
    ("api", "OPTIONS"): {200},
}
# Route names whose writes destroy the object: not sent to the intruder's own objects (the walk needs them).
DESTRUCTIVE = re.compile(r"delete|revoke")


# --- the routes -----------------------------------------------------------------------------------------------

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    name: str
    parts: tuple
    callback: object

    @property
    def template(self) -> str:
        return "".join(str(p) for p in self.parts)

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api:")

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:") or self.template.startswith("admin/")

    @property
    def params(self) -> dict[str, str]:
        """{parameter: how it is matched}: the converter's class name, or "regex <pattern>"."""
        found = {}
        for part in self.parts:
            if isinstance(part, RoutePattern):
                found.update({name: type(conv).__name__ for name, conv in part.converters.items()})
            elif isinstance(part, RegexPattern):
                for name, pattern in _regex_groups(part._regex).items():
                    found[name] = f"regex {pattern}"
        return found

    def url(self, values: dict) -> str:
        path = ""
        for part in self.parts:
            if isinstance(part, RoutePattern):
                path += _ROUTE_PARAM.sub(
                    lambda m, p=part: str(p.converters[m["name"]].to_url(values[m["name"]])), str(part)
                )
            else:
                path += _fill_regex(part._regex, values)
        return "/" + path


def _regex_groups(regex: str) -> dict[str, str]:
    """{name: pattern} of the named groups of a regex, nested parentheses included."""
    groups = {}
    for match in re.finditer(r"\(\?P<(\w+)>", regex):
        depth, i = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(regex[i], 0) if regex[i - 1] != "\\" else 0
            i += 1
        groups[match[1]] = regex[match.end() : i - 1]
    return groups


def _fill_regex(regex: str, values: dict) -> str:
    for name, pattern in _regex_groups(regex).items():
        regex = regex.replace(f"(?P<{name}>{pattern})", str(values[name]), 1)
    return regex.removeprefix("^").removesuffix("$")


def all_routes() -> list[Route]:
    routes = []

    def walk(patterns, parts, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
                walk(entry.url_patterns, (*parts, entry.pattern), inner or namespace)
            elif isinstance(entry, URLPattern):
                route_parts = (*parts, entry.pattern)
                template = "".join(str(p) for p in route_parts)
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or template
                routes.append(Route(name, route_parts, entry.callback))

    walk(get_resolver().url_patterns, (), None)
    return routes


def skipped(route: Route) -> bool:
    return any(rule(route) for rule in SKIPPED.values())


def source_of(route: Route, param: str) -> str | None:
    """Where a parameter's values come from: "values", a key of Library.objects, "jobs"; None if unknown."""
    if param in VALUES:
        return "values"
    if param in ROUTE_PARAMS.get(route.name, {}):
        return ROUTE_PARAMS[route.name][param]
    if param == "pk":
        return API_BASENAMES.get(getattr(route.callback, "initkwargs", {}).get("basename"))
    return PARAMS.get(param)


def candidates(route: Route, param: str, lib) -> list[str]:
    """The values to try for a parameter, from a user's library (every one of its objects is there)."""
    source = source_of(route, param)
    if source == "values":
        return list(VALUES[param])
    if source == "jobs":
        return [str(job.pk) for job in lib.jobs.values()]
    if source == "pipeline_jobs":
        return [str(job.pk) for job in lib.objects["pipeline"].jobs.order_by("queued_at")]
    return [str(lib.objects[source].pk)]


def unfillable(routes) -> list[str]:
    return [
        f"{route.name} ({route.template}): parameter {param!r}"
        for route in routes
        for param in route.params
        if source_of(route, param) is None
    ]


def object_params(route: Route) -> list[str]:
    return [p for p in route.params if p not in VALUES]


# --- requests -------------------------------------------------------------------------------------------------


@dataclass
class Identity:
    label: str
    client: Client
    api_only: bool = False
    pages_only: bool = False

    def serves(self, route: Route) -> bool:
        return not (self.api_only and not route.is_api) and not (self.pages_only and route.is_api)


def hostile_body(owner) -> dict:
    """A body naming the owner's things in every field a view reads an id from, with actions that would act on
    them; free text is neutral, so a row the intruder makes for themselves names nothing of the owner's."""
    o = owner.objects
    return {
        "track": str(o["track"].pk),
        "track_ids": [str(o["track"].pk)],
        "ids": [str(o["sample"].pk)],
        "stem": str(o["stem"].pk),
        "collection": str(o["collection"].pk),
        "sample": str(o["sample"].pk),
        "pipeline": str(o["pipeline"].pk),
        "export": str(o["export"].pk),
        "scope": "track",
        "action": "export",
        "title": "intruder",
        "artist": "intruder",
        "name": "intruder",
        "description": "intruder",
        "text": "intruder words",
        "tags": "intruder",
        "category": "kick",
        "favourite": "1",
        "include": ["lyrics"],
        "steps": ["slice"],
        "steps_given": "1",
        "username": owner.user.username,
        "password": "not-the-password-1",
    }


# Each action and scope the bulk and create views take, sent with the hostile ids to the parameterless routes.
ACTIONS = (
    "process",
    "export",
    "favourite",
    "unfavourite",
    "tag",
    "category",
    "collection",
    "delete-confirmed",
    "typed",
)
SCOPES = ("tracks", "collection", "favourites", "library")
VARIANTS = [{"action": a} for a in ACTIONS] + [{"scope": s} for s in SCOPES]


def send(client: Client, method: str, url: str, route: Route, body: dict | None):
    kwargs = {}
    if method in WRITES and body is not None:
        if route.is_api:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        elif method == "POST":
            kwargs = {"data": body}
        else:
            kwargs = {"data": urlencode(body, doseq=True), "content_type": "application/x-www-form-urlencoded"}
    response = getattr(client, method.lower())(url, **kwargs)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return response, content


class Walk:
    """Sends requests and keeps every problem, so one run reports them all."""

    def __init__(self, needles):
        self.needles = needles
        self.problems: list[str] = []
        self.requests = 0
        self.routes: set[str] = set()

    def request(self, identity, method, url, route, body=None, *, leaks=True):
        """The response, after recording a 500 or (unless leaks is False: the owner's own requests) a leak;
        None when the view raised."""
        self.requests += 1
        self.routes.add(route.name)
        where = f"{method} {url} as {identity.label} ({route.name})"
        try:
            response, content = send(identity.client, method, url, route, body)
        except Exception as exc:  # a 500: the test client re-raises what the view raised
            self.problems.append(f"{where}: 500, {type(exc).__name__}: {exc}")
            return None, b""
        if response.status_code >= 500:
            self.problems.append(f"{where}: {response.status_code} {content[:200]!r}")
        if not leaks:
            return response, content
        sent = url + json.dumps(body or {})
        leaked = sorted(n for n in self.needles if n not in sent and n.encode() in content)
        if leaked:
            self.problems.append(f"{where}: {response.status_code}, the body shows the owner's {', '.join(leaked)}")
        return response, content

    def expect(self, response, allowed, where, content=b""):
        if response is not None and response.status_code not in allowed:
            detail = response.get("Location") or content[:160]
            self.problems.append(f"{where}: {response.status_code} {detail!r}, expected one of {sorted(allowed)}")


def _login_redirect(response, *prefixes) -> bool:
    return response.status_code == 302 and response["Location"].startswith(prefixes)


# --- the test -------------------------------------------------------------------------------------------------


@pytest.fixture
def libraries(django_user_model, tmp_path):
    owner_name, intruder_name = word("owner"), word("intruder")
    owner = django_user_model.objects.create_user(owner_name, f"{owner_name}@example.com", "x-long-pw-91")
    intruder = django_user_model.objects.create_user(intruder_name, f"{intruder_name}@example.com", "x-long-pw-92")
    yield build_library(owner, tmp_path / "owner", prefix="own"), build_library(intruder, tmp_path / "b", prefix="itr")
    cache.clear()  # the token endpoint's throttle counts these requests; later tests start from zero


def test_it_knows_how_to_fill_every_route_parameter():
    missing = unfillable(r for r in all_routes() if not skipped(r))
    assert not missing, (
        "Add these parameters to PARAMS (or the router basename to API_BASENAMES, or VALUES for a parameter that "
        "names no object) in tests/test_isolation.py, so the isolation walk covers the route:\n" + "\n".join(missing)
    )


def test_it_uses_the_uuid_converter_for_every_object_id():
    """Ids in URLs are UUIDs matched by the uuid converter: not guessable, and anything else 404s at the router."""
    offenders = []
    for route in all_routes():
        if skipped(route):
            continue
        for param, how in route.params.items():
            if param in VALUES:
                continue
            if how != UUIDConverter.__name__:
                offenders.append(f"{route.name} ({route.template}): {param} is matched by {how}")
    assert not offenders, "Object ids in URLs must use the uuid converter:\n" + "\n".join(offenders)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_route_to_the_owner(libraries):
    owner, intruder = libraries
    routes = [r for r in all_routes() if not skipped(r)]
    missing = unfillable(routes)
    assert not missing, "Unfillable parameters (see test_it_knows_how_to_fill_every_route_parameter):\n" + "\n".join(
        missing
    )

    walk = Walk(needles=ids_of(owner.user) | set(owner.words))
    as_owner = _identities(owner, with_anonymous=False)
    intruders = _identities(intruder, with_anonymous=False)
    anonymous = Identity("anonymous", Client())
    body = hostile_body(owner)

    # Jobs the requests start are created without sending a message: no broker is needed, no worker runs them.
    with run_inline(), _quiet("django.request"):  # thousands of expected 404s
        _check_filled_urls_reach_the_owners_objects(walk, routes, owner, as_owner)
        # Checked after every route, not only at the end: a later route could undo what an earlier one did
        # (one adds the owner's track to a collection, the next removes it).
        guard = Guard(walk, owner)
        for route in routes:
            if route.params:
                _walk_owned(walk, route, owner, intruder, [*intruders, anonymous], body)
            else:
                _walk_lists(walk, route, owner, [*intruders, anonymous], body)
            _walk_intruders_own(walk, route, intruder, intruders, body)
            guard.check(route.name)
        _walk_admin(walk, owner, [intruders[0], anonymous], body)
        guard.check("the admin")

    me = intruders[0].client.get("/api/me/")
    if me.status_code != 200 or me.json().get("username") != intruder.user.username:
        walk.problems.append("the intruder's session ended during the walk, so later answers prove nothing")

    print(f"\n{len(walk.routes)} routes ({len(routes)} patterns + admin), {walk.requests} requests")
    assert not walk.problems, f"{len(walk.problems)} problems:\n" + "\n".join(walk.problems[:150])


@contextlib.contextmanager
def _quiet(name):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class Guard:
    """The owner's data exactly as it was, and no one else's rows naming any of it."""

    def __init__(self, walk, owner):
        self.walk, self.owner = walk, owner
        self.needles = ids_of(owner.user) | set(owner.words)
        self.state = snapshot(owner.user)
        self.reported = set()

    def check(self, after: str):
        state = snapshot(self.owner.user)
        for key in sorted(self.state.keys() | state.keys()):
            if self.state.get(key) != state.get(key):
                change = f"{self.state.get(key)!r} -> {state.get(key)!r}"
                self.walk.problems.append(f"after {after}: the owner's {key} changed: {change}"[:800])
        self.state = state
        for found in references_to(self.owner.user, self.needles):
            if found not in self.reported:
                self.reported.add(found)
                self.walk.problems.append(f"after {after}: someone else's row names the owner's things: {found}")


def _identities(lib, *, with_anonymous=True) -> list[Identity]:
    session = Client()
    session.force_login(lib.user)
    htmx = Client(headers={"HX-Request": "true"})
    htmx.force_login(lib.user)
    token = Client(headers={"Authorization": f"Token {lib.api_key}"})
    label = lib.user.username
    found = [
        Identity(f"{label} (session)", session),
        Identity(f"{label} (session, htmx)", htmx, pages_only=True),
        Identity(f"{label} (API token)", token, api_only=True),
    ]
    if with_anonymous:
        found.append(Identity("anonymous", Client()))
    return found


def _urls(route, lib_by_param: dict) -> list[str]:
    """Every URL of the route with each parameter taken from the library given for it."""
    params = list(route.params)
    options = [candidates(route, p, lib_by_param[p]) for p in params]
    return [route.url(dict(zip(params, combo, strict=True))) for combo in itertools.product(*options)]


def _check_filled_urls_reach_the_owners_objects(walk, routes, owner, as_owner):
    """The owner's GET of every filled URL is not a 404: the walk's 404s come from the isolation, not from a URL
    this file built wrong. resolve() proves each URL reaches the route it was built for."""
    for route in routes:
        if not route.params:
            continue
        for url in _urls(route, dict.fromkeys(route.params, owner)):
            match = resolve(url)
            if match.func is not route.callback:
                walk.problems.append(f"{url} resolves to {match.view_name}, not {route.name}: fix Route.url")
                continue
            for identity in as_owner:
                if not identity.serves(route) or "htmx" in identity.label:
                    continue
                response, content = walk.request(identity, "GET", url, route, leaks=False)
                if response is not None and response.status_code == 404:
                    walk.problems.append(
                        f"GET {url} as the owner ({route.name}): 404, so the walk cannot tell isolation from a bad "
                        f"URL; give PARAMS an object this route finds ({content[:120]!r})"
                    )


def _walk_owned(walk, route, owner, intruder, identities, body):
    """Every URL naming the owner's objects (alone, or mixed with the intruder's for routes taking two)."""
    params = object_params(route)
    mixes = [dict.fromkeys(route.params, owner)]
    if len(params) > 1:
        for chosen in itertools.product((owner, intruder), repeat=len(params)):
            if owner in chosen and intruder in chosen:
                mixes.append({**dict.fromkeys(route.params, owner), **dict(zip(params, chosen, strict=True))})
    for mix in mixes:
        for url in _urls(route, mix):
            for identity in identities:
                if not identity.serves(route):
                    continue
                for method in METHODS:
                    response, content = walk.request(identity, method, url, route, body)
                    where = f"{method} {url} as {identity.label} ({route.name})"
                    if response is None:
                        continue
                    if identity.label == "anonymous":
                        if not _login_redirect(response, reverse("account_login")):
                            walk.expect(response, {401, 403, 404, 405}, where, content)
                    else:
                        allowed = {404, 405} | JUSTIFIED.get(("api" if route.is_api else "pages", method), set())
                        walk.expect(response, allowed, where, content)


def _walk_lists(walk, route, owner, identities, body):
    """Routes without parameters: the intruder's lists, searches and bulk actions show and touch nothing of the
    owner's, whatever ids and names the request carries."""
    o = owner.objects
    by_id = {key: str(o[key].pk) for key in ("track", "collection", "stem", "sample", "tag", "pipeline", "export")}
    queries = ["", "?" + urlencode(by_id), f"?q={quote(owner.names['title'])}", f"?tag={quote(owner.names['tag'])}"]
    for identity in identities:
        if not identity.serves(route):
            continue
        anonymous = identity.label == "anonymous"
        for method in METHODS:
            urls = [route.url({}) + q for q in queries] if method == "GET" else [route.url({})]
            bodies = [body] + ([{**body, **v} for v in VARIANTS] if method == "POST" else [])
            for url, data in itertools.product(urls, bodies):
                response, content = walk.request(identity, method, url, route, data)
                if response is None or not anonymous or route.name in PUBLIC:
                    continue
                if not _login_redirect(response, reverse("account_login")):
                    walk.expect(response, {401, 403, 405}, f"{method} {url} as anonymous ({route.name})", content)


def _walk_intruders_own(walk, route, intruder, identities, body):
    """The intruder's own objects, asked for with the owner's ids in the body (a stem, a collection, tracks to
    add): whatever the answer, it shows nothing of the owner's, and the final checks prove nothing of theirs was
    used or changed. Nothing destructive: the walk needs the intruder's objects and token to the end."""
    if not route.params:
        return
    for url in _urls(route, dict.fromkeys(route.params, intruder)):
        for identity in identities:
            if not identity.serves(route):
                continue
            for method in ("GET", "HEAD", *([] if DESTRUCTIVE.search(route.name) else WRITES)):
                response, content = walk.request(identity, method, url, route, body)
                if method == "GET" and response is not None and response.status_code == 404:
                    walk.problems.append(
                        f"GET {url} as {identity.label}, its owner ({route.name}): 404, so the walk of the intruder's "
                        f"own objects proves nothing here ({content[:120]!r})"
                    )


def _walk_admin(walk, owner, identities, body):
    """Every admin URL, with the owner's objects where it takes one: neither a user who is not staff nor an
    anonymous visitor gets past the admin's login (its login page itself is public; a non-staff user's logout
    goes to the index, which sends them to the login)."""
    redirects = (reverse("admin:login"), reverse("admin:index"), reverse("account_login"))
    track_type = ContentType.objects.get_for_model(type(owner.objects["track"]))
    for route in all_routes():
        if not route.is_admin:
            continue
        values = {"id": owner.user.pk, "content_type_id": track_type.pk, "url": "tracks/nowhere/"}
        values["object_id"] = _admin_object_id(route, owner)
        values["app_label"] = "tracks"
        url = route.url({k: values[k] for k in route.params})
        for identity in identities:
            for method in METHODS:
                response, content = walk.request(identity, method, url, route, body)
                if response is None or route.name == "admin:login" or _login_redirect(response, *redirects):
                    continue
                detail = response.get("Location") or content[:160]
                walk.problems.append(
                    f"{method} {url} as {identity.label} ({route.name}): {response.status_code} {detail!r}, "
                    "expected a redirect to the admin's login"
                )


def _admin_object_id(route, owner):
    """The owner's object of the admin's model (from "admin/<app>/<model>/..."), else the owner's track."""
    from django.apps import apps

    from tests.isolation_fixtures import owner_fields

    segments = route.template.split("/")
    try:
        model = apps.get_model(segments[1], segments[2])
    except (LookupError, ValueError, IndexError):
        return owner.objects["track"].pk
    if model is type(owner.user):
        return owner.user.pk
    field = owner_fields().get(model)
    manager = model._default_manager
    row = manager.filter(**{field: owner.user}).first() if field else manager.first()
    return row.pk if row is not None else owner.objects["track"].pk
