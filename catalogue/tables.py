"""HSDS 3.0 tables of the community-service directory."""

from datetime import date, datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class Organization(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    email: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=300)


class Service(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    organization_id: str = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    status: str = Field(default="active", max_length=32, index=True)
    email: str | None = Field(default=None, max_length=200)
    assured_date: date | None = None
    last_modified: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
