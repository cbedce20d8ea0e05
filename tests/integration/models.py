"""Pydantic v2 models the way applications write them for structured output: nested objects,
enums, ``Literal``, optional fields, lists, ``$defs``, plain and discriminated unions, dates,
UUIDs, e-mail addresses, URLs and constrained fields.

Each model is sent through a real client (the openai SDK's ``parse()``, pydantic-ai's
``NativeOutput``), which turns it into the ``response_format`` schema; the fake's default answer
must validate as the model.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, EmailStr, Field, HttpUrl


class Weather(BaseModel):
    city: str
    temperature_c: float = Field(ge=-90, le=60)
    conditions: Literal["sunny", "cloudy", "rain", "snow", "fog"]
    humidity: int = Field(ge=0, le=100)
    wind_kph: Optional[float] = None  # noqa: UP045 (the spelling many users write)


class ContactCard(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    email: EmailStr
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ]{7,15}$")
    company: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=5)


class Address(BaseModel):
    street: str
    city: str
    postcode: str = Field(pattern=r"^\d{5}$")
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")


class Customer(BaseModel):
    id: uuid.UUID
    name: str
    email: EmailStr
    billing: Address
    shipping: Address | None = None


class Currency(str, enum.Enum):
    eur = "EUR"
    usd = "USD"
    gbp = "GBP"


class InvoiceLine(BaseModel):
    description: str
    quantity: int = Field(ge=1, le=1000)
    unit_price: float = Field(ge=0, le=100_000, multiple_of=0.01)


class Invoice(BaseModel):
    number: str = Field(pattern=r"^INV-\d{6}$")
    issued: datetime.date
    due: datetime.date
    currency: Currency
    lines: list[InvoiceLine] = Field(min_length=1, max_length=10)
    customer: Customer
    paid: bool


class Recurrence(str, enum.Enum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


class CalendarEvent(BaseModel):
    title: str
    start: datetime.datetime
    end: datetime.datetime
    all_day: bool = False
    location: str | None = None
    attendees: list[EmailStr] = Field(default_factory=list, max_length=8)
    recurrence: Recurrence | None = None


class Priority(enum.IntEnum):
    low = 1
    normal = 2
    high = 3
    urgent = 4


class SupportTicket(BaseModel):
    subject: str = Field(max_length=120)
    priority: Priority
    status: Literal["open", "pending", "solved", "closed"]
    labels: list[Literal["billing", "bug", "feature", "account"]]
    created_at: datetime.datetime
    assignee: EmailStr | None = None


class Unit(str, enum.Enum):
    gram = "g"
    millilitre = "ml"
    piece = "pc"
    tablespoon = "tbsp"


class Ingredient(BaseModel):
    name: str
    quantity: float = Field(gt=0, le=5000)
    unit: Unit


class Recipe(BaseModel):
    title: str
    servings: int = Field(ge=1, le=12)
    prep_minutes: int = Field(ge=0, le=600)
    ingredients: list[Ingredient] = Field(min_length=1)
    steps: list[str] = Field(min_length=1, max_length=12)
    vegetarian: bool


class MovieReview(BaseModel):
    title: str
    year: int = Field(ge=1888, le=2030)
    rating: int = Field(ge=1, le=5)
    sentiment: Literal["positive", "mixed", "negative"]
    pros: list[str] = Field(max_length=3)
    cons: list[str] = Field(max_length=3)
    contains_spoilers: bool


class Location(BaseModel):
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class MentionedPerson(BaseModel):
    name: str
    role: str | None = None


class ExtractedEntities(BaseModel):
    people: list[MentionedPerson]
    organisations: list[str]
    locations: list[Location]
    dates: list[datetime.date]


class Circle(BaseModel):
    kind: Literal["circle"]
    radius: float = Field(gt=0)


class Rectangle(BaseModel):
    kind: Literal["rectangle"]
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class Polygon(BaseModel):
    kind: Literal["polygon"]
    points: list[tuple[float, float]] = Field(min_length=3, max_length=6)


Shape = Annotated[Union[Circle, Rectangle, Polygon], Field(discriminator="kind")]  # noqa: UP007


class Drawing(BaseModel):
    name: str
    shapes: list[Shape] = Field(min_length=1, max_length=4)


class Card(BaseModel):
    method: Literal["card"]
    brand: Literal["visa", "mastercard", "amex"]
    last4: str = Field(pattern=r"^\d{4}$")
    expiry: str = Field(pattern=r"^(0[1-9]|1[0-2])/\d{2}$")


class BankTransfer(BaseModel):
    method: Literal["bank_transfer"]
    iban: str = Field(pattern=r"^[A-Z]{2}\d{2}[A-Z0-9]{12,30}$")


class Wallet(BaseModel):
    method: Literal["wallet"]
    provider: Literal["apple_pay", "google_pay", "paypal"]


class Checkout(BaseModel):
    order_id: uuid.UUID
    amount: float = Field(gt=0, le=100_000)
    payment: Card | BankTransfer | Wallet = Field(discriminator="method")


class File(BaseModel):
    name: str
    size_bytes: int = Field(ge=0)


class Directory(BaseModel):
    name: str
    entries: list[Directory | File] = []


class Filters(BaseModel):
    min_price: float | None = Field(default=None, ge=0)
    max_price: float | None = Field(default=None, ge=0)
    in_stock: bool | None = None
    categories: list[str] = []


class SearchQuery(BaseModel):
    query: str = Field(min_length=1, max_length=200)
    filters: Filters | None = None
    sort: Literal["relevance", "price_asc", "price_desc", "newest"] = "relevance"
    page: int = Field(default=1, ge=1, le=50)
    per_page: int = Field(default=20, ge=1, le=100)


class Label(str, enum.Enum):
    spam = "spam"
    ham = "ham"
    phishing = "phishing"


class Alternative(BaseModel):
    label: Label
    confidence: float = Field(ge=0, le=1)


class Classification(BaseModel):
    label: Label
    confidence: float = Field(ge=0, le=1)
    alternatives: list[Alternative] = Field(max_length=2)
    explanation: str


class Role(str, enum.Enum):
    admin = "admin"
    editor = "editor"
    viewer = "viewer"


class UserProfile(BaseModel):
    id: uuid.UUID
    username: str = Field(pattern=r"^[a-z0-9_]{3,16}$")
    email: EmailStr
    birthday: datetime.date | None = None
    website: HttpUrl | None = None
    role: Role
    created_at: datetime.datetime


class Passenger(BaseModel):
    first_name: str
    last_name: str
    age: int = Field(ge=0, le=120)


class Segment(BaseModel):
    flight: str = Field(pattern=r"^[A-Z]{2}\d{2,4}$")
    origin: str = Field(pattern=r"^[A-Z]{3}$")
    destination: str = Field(pattern=r"^[A-Z]{3}$")
    departs: datetime.datetime


class FlightBooking(BaseModel):
    reference: str = Field(pattern=r"^[A-Z0-9]{6}$")
    cabin: Literal["economy", "premium", "business", "first"]
    passengers: list[Passenger] = Field(min_length=1, max_length=4)
    segments: list[Segment] = Field(min_length=1, max_length=3)


class Author(BaseModel):
    name: str
    email: EmailStr


class FileChange(BaseModel):
    path: str
    status: Literal["added", "modified", "deleted", "renamed"]
    additions: int = Field(ge=0)
    deletions: int = Field(ge=0)


class Commit(BaseModel):
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    author: Author
    message: str = Field(min_length=1, max_length=72)
    files: list[FileChange]


class Measurement(BaseModel):
    sensor: str
    value: int | float | str | None
    unit: str | None = None
    taken_at: datetime.datetime


class ActionItem(BaseModel):
    owner: str
    task: str
    due: datetime.date | None = None
    done: bool = False


class MeetingNotes(BaseModel):
    title: str
    held_on: datetime.date
    attendees: list[str] = Field(min_length=1)
    decisions: list[str]
    action_items: list[ActionItem]
    summary: str = Field(max_length=500)


class StockQuote(BaseModel):
    symbol: str = Field(pattern=r"^[A-Z]{1,5}$")
    price: float = Field(gt=0)
    change_pct: float = Field(ge=-100, le=1000)
    currency: Literal["USD", "EUR", "JPY"]
    as_of: datetime.datetime


class Translation(BaseModel):
    source_language: Literal["en", "fr", "de", "es", "ja"]
    target_language: Literal["en", "fr", "de", "es", "ja"]
    text: str
    alternatives: list[str] = Field(default_factory=list, max_length=3)


class Stock(BaseModel):
    warehouse: str
    counts: dict[str, int]


MODELS: list[type[BaseModel]] = [
    Weather,
    ContactCard,
    Customer,
    Invoice,
    CalendarEvent,
    SupportTicket,
    Recipe,
    MovieReview,
    ExtractedEntities,
    Drawing,
    Checkout,
    Directory,
    SearchQuery,
    Classification,
    UserProfile,
    FlightBooking,
    Commit,
    Measurement,
    MeetingNotes,
    StockQuote,
    Translation,
    Stock,
]
