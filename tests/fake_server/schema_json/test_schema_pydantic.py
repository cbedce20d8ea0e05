"""Schemas the way clients send them: pydantic v2 models, plain and as openai's ``parse()`` sends
them (``to_strict_json_schema``). Every value fits the schema and validates as the model."""

from __future__ import annotations

import datetime
import enum
import random
import uuid
from collections import Counter
from ipaddress import IPv4Address
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl

from fake_server._schema_json import generate

SEEDS = range(30)


class Weather(BaseModel):
    city: str
    temperature_c: float
    conditions: Literal["sunny", "cloudy", "rain", "snow"]
    humidity: int = Field(ge=0, le=100)


class Person(BaseModel):
    name: str
    age: Optional[int] = None  # noqa: UP045 (the spelling users write)
    email: EmailStr | None = None
    nicknames: list[str] = []


class Address(BaseModel):
    street: str
    city: str
    postcode: str = Field(pattern=r"^\d{5}$")
    country: str = Field(min_length=2, max_length=2)


class Customer(BaseModel):
    id: uuid.UUID
    name: str
    address: Address
    shipping: Address | None = None


class OrderStatus(str, enum.Enum):
    pending = "pending"
    shipped = "shipped"
    delivered = "delivered"


class LineItem(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=20)
    unit_price: float = Field(gt=0)


class Order(BaseModel):
    items: list[LineItem] = Field(min_length=1, max_length=5)
    total: float = Field(ge=0)
    status: OrderStatus
    created_at: datetime.datetime


class Event(BaseModel):
    title: str
    start: datetime.datetime
    day: datetime.date
    at: datetime.time
    duration: datetime.timedelta


class Circle(BaseModel):
    kind: Literal["circle"]
    radius: float = Field(gt=0)


class Square(BaseModel):
    kind: Literal["square"]
    side: float = Field(gt=0)


class Triangle(BaseModel):
    kind: Literal["triangle"]
    sides: tuple[float, float, float]


Shape = Annotated[Union[Circle, Square, Triangle], Field(discriminator="kind")]  # noqa: UP007


class Drawing(BaseModel):
    name: str
    shapes: list[Shape]


class Cat(BaseModel):
    pet_type: Literal["cat"]
    meows: int


class Dog(BaseModel):
    pet_type: Literal["dog"]
    barks: float


class Owner(BaseModel):
    pet: Cat | Dog = Field(discriminator="pet_type")


class TreeNode(BaseModel):
    name: str
    children: list[TreeNode] = []


class ListNode(BaseModel):
    value: int
    next: ListNode | None = None


class Product(BaseModel):
    sku: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    name: str = Field(min_length=3, max_length=40)
    price: float = Field(gt=0, lt=10_000)
    quantity: int = Field(ge=1, le=99)
    discount: float = Field(multiple_of=0.25, ge=0, le=1)


class Matrix(BaseModel):
    shape: tuple[int, int]
    labels: set[str]
    coords: list[tuple[float, float]]


class Inventory(BaseModel):
    counts: dict[str, int]
    notes: dict[str, str] = {}


class Setting(BaseModel):
    key: str
    value: int | float | str | bool | None


class Ack(BaseModel):
    ok: Literal[True]
    kind: Literal["ack"]


class StrictConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    retries: int = Field(default=3, ge=0, le=10)
    verbose: bool = False


class Server(BaseModel):
    host: IPv4Address
    url: HttpUrl
    admin: EmailStr


class Priority(enum.IntEnum):
    low = 1
    medium = 2
    high = 3


class Ticket(BaseModel):
    priority: Priority
    labels: list[Literal["bug", "feature", "docs"]]


class Point(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Route(BaseModel):
    origin: Point
    destination: Point
    waypoints: list[Point] = []


class Handle(BaseModel):
    handle: str = Field(pattern=r"^@[a-z0-9_]{3,15}$")
    display: str = Field(max_length=12)


class Citation(BaseModel):
    url: HttpUrl
    year: int = Field(ge=1900, le=2030)


class Section(BaseModel):
    heading: str
    paragraphs: list[str] = Field(min_length=1)
    citations: list[Citation] = []


class Report(BaseModel):
    title: str
    sections: list[Section]
    summary: str | None = None


class Sentiment(BaseModel):
    label: Literal["positive", "negative", "neutral"]
    score: float = Field(ge=0, le=1)
    reasons: list[str] = Field(max_length=3)


class Online(BaseModel):
    mode: Literal["online"]
    link: HttpUrl


class InPerson(BaseModel):
    mode: Literal["in_person"]
    room: str


class Meeting(BaseModel):
    topic: str
    where: Annotated[Online | InPerson, Field(discriminator="mode")] | None = None
    attendees: list[EmailStr] = Field(default_factory=list, max_length=4)


class Batch(BaseModel):
    ids: list[uuid.UUID]
    codes: frozenset[int]
    payload: Any = None


MODELS: list[type[BaseModel]] = [
    Weather,
    Person,
    Customer,
    Order,
    Event,
    Drawing,
    Owner,
    TreeNode,
    ListNode,
    Product,
    Matrix,
    Inventory,
    Setting,
    Ack,
    StrictConfig,
    Server,
    Ticket,
    Route,
    Handle,
    Report,
    Sentiment,
    Meeting,
    Batch,
]


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    return dict(to_strict_json_schema(model))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("form", ["model_json_schema", "openai_strict"])
def test_values_fit_the_schema_and_validate_as_the_model(
    model: type[BaseModel], form: str, assert_fits: Any
) -> None:
    schema = model.model_json_schema() if form == "model_json_schema" else strict_schema(model)
    for seed in SEEDS:
        value = generate(schema, random.Random(seed))
        assert_fits(schema, value)
        model.model_validate(value)


def test_there_are_at_least_twenty_models() -> None:
    assert len(MODELS) >= 20


def test_optional_fields_come_and_go() -> None:
    """Across seeds an optional field is sometimes there, sometimes absent, sometimes null."""
    seen: Counter[str] = Counter()
    for seed in SEEDS:
        value = generate(Person.model_json_schema(), random.Random(seed))
        seen["age" in value] += 1
        seen["age=null"] += value.get("age", 0) is None
    assert seen[True] and seen[False] and seen["age=null"]


def test_every_branch_of_a_discriminated_union_appears() -> None:
    kinds = {
        shape["kind"]
        for seed in SEEDS
        for shape in generate(Drawing.model_json_schema(), random.Random(seed))["shapes"]
    }
    assert kinds == {"circle", "square", "triangle"}


def test_recursive_models_stay_small() -> None:
    def depth(node: dict[str, Any]) -> int:
        return 1 + max((depth(c) for c in node.get("children", [])), default=0)

    for seed in SEEDS:
        assert depth(generate(TreeNode.model_json_schema(), random.Random(seed))) <= 4
        assert depth(generate(strict_schema(TreeNode), random.Random(seed))) <= 4


def test_formats_look_like_what_they_name() -> None:
    value = generate(Event.model_json_schema(), random.Random(3))
    event = Event.model_validate(value)
    assert event.start.tzinfo is not None
    assert isinstance(event.duration, datetime.timedelta)
