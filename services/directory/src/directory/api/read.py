"""A stored listing as the JSON API shows it."""

from __future__ import annotations

from datetime import datetime, timedelta

from directory.api.schemas import LocationRead, ServiceRead, UptakeRead
from directory.domain.listing import ReferralRoute, is_stale
from directory.store.tables import LocationRow, ServiceRow, ServiceUptakeRow


def location_read(row: LocationRow, document: dict[str, object] | None) -> LocationRead:
    """The location's stored row, with the service's own view of it (accessibility ids,
    service_at_location id) from the listing document where there is one."""
    base = dict(document or {})
    base.update(
        id=row.id,
        location_type=row.location_type,
        name=row.name,
        description=row.description,
        address_1=row.address_1,
        city=row.city,
        region=row.region,
        postcode=row.postcode,
        country=row.country,
        latitude=row.latitude,
        longitude=row.longitude,
        external_identifier=row.external_identifier,
        external_identifier_type=row.external_identifier_type,
        address_id=row.address_id,
        accessibility=row.accessibility,
        borough=row.borough,
    )
    return LocationRead.model_validate(base)


def service_read(
    row: ServiceRow,
    locations: list[LocationRow],
    uptake: ServiceUptakeRow | None,
    *,
    now: datetime,
    stale_after: timedelta,
) -> ServiceRead:
    doc = row.document
    by_id = {str(loc.get("id")): loc for loc in doc.get("locations", [])}
    return ServiceRead.model_validate(
        {
            **doc,
            "id": row.id,
            "status": row.status,
            "capacity": row.capacity,
            "locations": [location_read(loc, by_id.get(str(loc.id))) for loc in locations],
            "takes_direct_referrals": row.referral_route == ReferralRoute.FORMAL_REFERRAL,
            "last_verified_at": row.last_verified_at,
            "stale": is_stale(row.last_verified_at, now, stale_after),
            "version": row.version,
            "withdrawn_reason": row.withdrawn_reason,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "uptake": UptakeRead.model_validate(uptake, from_attributes=True)
            if uptake
            else UptakeRead(),
        }
    )
