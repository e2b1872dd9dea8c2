"""Changes organisations make to their own services: capacity and status."""

from datetime import UTC, datetime
from enum import StrEnum
from uuid import uuid4

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import Session, col, select

from catalogue.tables import Service, ServiceCapacity
from domain.messages import Actor
from domain.tables import AuditEvent


class ServiceStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class CapacityStatusUpdate(BaseModel):
    # Each field may be left out, but not sent as null: that would erase what is known.
    status: ServiceStatus | SkipJsonSchema[None] = None
    available: int | SkipJsonSchema[None] = Field(
        default=None, ge=0, description="Places free now."
    )
    maximum: int | SkipJsonSchema[None] = Field(default=None, ge=0)
    waiting_list: bool | SkipJsonSchema[None] = Field(
        default=None, description="Whether the service takes names when no place is free."
    )

    @field_validator("status", "available", "maximum", "waiting_list", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Only a value sent explicitly is validated, so None here is a JSON null.
        if value is None:
            raise ValueError("give a value, or leave the field out")
        return value

    @model_validator(mode="after")
    def _says_something(self) -> "CapacityStatusUpdate":
        if not self.model_fields_set:
            raise ValueError("give at least one of status, available, maximum, waiting_list")
        return self


def update_capacity_and_status(
    session: Session, service_id: str, update: CapacityStatusUpdate, actor: Actor
) -> Service | None:
    """Apply ``update`` and audit it (the caller commits); None if there is no such service."""
    service = session.get(Service, service_id)
    if service is None:
        return None
    now = datetime.now(UTC)
    if update.status is not None:
        service.status = update.status.value
    capacity_fields = {"available", "maximum", "waiting_list"} & update.model_fields_set
    if capacity_fields:
        capacity = session.exec(
            select(ServiceCapacity)
            .where(ServiceCapacity.service_id == service_id)
            .order_by(col(ServiceCapacity.position))
        ).first() or ServiceCapacity(
            id=str(uuid4()),
            root=f"service:{service_id}",
            parent=f"service:{service_id}",
            service_id=service_id,
        )
        for name in capacity_fields:
            setattr(capacity, name, getattr(update, name))
        capacity.updated = now
        session.add(capacity)
    service.last_modified = now
    session.add(service)
    session.add(
        AuditEvent(
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            action="service_capacity_status_updated",
            at=now,
            detail={"service_id": service_id, **update.model_dump(mode="json", exclude_unset=True)},
        )
    )
    session.flush()
    return service
