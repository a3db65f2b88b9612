"""/cost: what the design costs per month at the learner's traffic, and its what-ifs.

The figures come from a measurement of the app's own pages (`lens.measure`), kept under the
data directory; when there is none for the running code, the page starts one in the background
(outside production, as the labs) and polls until it is there.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from lens import cost
from lens.measure import measurement_for_page
from shared.errors import InvalidInput
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.web import render

router = APIRouter(include_in_schema=False)
POLL = "every 2s"

FIELD_LABELS = {
    "users": N_("Daily active users"),
    "home_views": N_("Home page views"),
    "post_views": N_("Post page views"),
    "user_views": N_("User page views"),
    "activity_views": N_("Activity page views"),
    "feed_views": N_("Feed page views"),
    "likes": N_("Likes"),
    "comments": N_("Comments"),
    "posts": N_("Posts written"),
    "sign_ins": N_("Sign-ins"),
    "region": N_("Region"),
    "mode": N_("Capacity mode"),
    "target_utilization": N_("Auto scaling target utilisation"),
    "peak_to_average": N_("Peak traffic / average traffic"),
}
PER_DAY = tuple(cost.STEP_OF_FIELD)
WHAT_IF_TITLES = {
    "feed-by-index": N_("The Scan feed replaced by the FeedIndex Query"),
    "strong-reads": N_(
        "Strongly consistent reads on the tables instead of eventually consistent ones"
    ),
    "provisioned": N_("Provisioned capacity with auto scaling at the target utilisation"),
    "on-demand": N_("On-demand capacity"),
    "without": N_(
        "{index} removed (its writes and storage gone, and the question it answers with them)"
    ),
    "keys-only": N_(
        "{index} projecting KEYS_ONLY (smaller entries; each item a read returns is then "
        "fetched from the table)"
    ),
}


def what_if_title(name: str) -> str:
    """A what-if's title in the learner's language (its name is the identifier)."""
    for prefix in ("without", "keys-only"):
        if name.startswith(prefix + "-"):
            return _(WHAT_IF_TITLES[prefix]).format(index=name.removeprefix(prefix + "-"))
    return _(WHAT_IF_TITLES[name])


def profile_from(query: dict[str, str]) -> cost.TrafficProfile:
    """The profile from the form's fields (other parameters, such as the language switch's, are
    not the form's); a bad value is an `InvalidInput` naming its field."""
    fields = cost.TrafficProfile.model_fields
    known = {name: value for name, value in query.items() if name in fields and value != ""}
    try:
        return cost.TrafficProfile.model_validate(known)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        label = _(FIELD_LABELS[name]) if name in FIELD_LABELS else name
        raise InvalidInput(
            _("{field}: this value is not allowed ({value}).").format(
                field=label, value=str(first.get("input", ""))[:40]
            ),
            field=name,
        ) from error


@router.get("/cost")
def cost_page(request: Request) -> Response:
    """The form, and the estimate at its traffic (or the measurement it waits for)."""
    query = dict(request.query_params)
    ctx: dict[str, Any] = {
        "labels": FIELD_LABELS,
        "per_day": PER_DAY,
        "regions": list(cost.PRICES),
        "query": query,
        "poll": POLL,
        "what_if_title": what_if_title,
        "sources": cost.PRICE_SOURCES,
        "read_on": cost.PRICES_READ_ON,
        "problem": None,
    }
    try:
        profile = profile_from(query)
    except InvalidInput as error:
        ctx |= {
            "profile": cost.TrafficProfile(),
            "problem": error.detail,
            "doc": None,
            "measuring": False,
        }
        return render(request, "lens/cost.html", ctx, block="result", status_code=422)
    ctx |= {"profile": profile, **_estimate_or_wait(profile)}
    return render(request, "lens/cost.html", ctx, block="result")


def _estimate_or_wait(profile: cost.TrafficProfile) -> dict[str, Any]:
    measurement, state = measurement_for_page()
    doc = cost.cost_document(measurement, profile) if measurement is not None else None
    return {"doc": doc, **state}
