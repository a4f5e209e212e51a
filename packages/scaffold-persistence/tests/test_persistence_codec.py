"""DataclassEventCodec: domain events to outbox rows and back."""

import dataclasses
import datetime
import decimal
import enum
import uuid

import persistence_shop as shop
import pytest

from scaffold.persistence import DataclassEventCodec, EventCodecError


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass(frozen=True)
class Everything:
    order_id: shop.OrderId
    text: str
    count: int
    ratio: float
    flag: bool
    missing: str | None
    at: datetime.datetime
    day: datetime.date
    wait: datetime.timedelta
    price: decimal.Decimal
    colour: Colour
    tags: tuple[str, ...]
    scores: list[int]
    unique: frozenset[str]
    by_name: dict[str, float]
    maybe_id: shop.OrderId | None = None
    free: object = None


@dataclasses.dataclass
class Renamed:
    value: int


class TestRoundTrip:
    def test_every_supported_field_type_survives(self):
        """An event with every supported kind of field decodes equal to the original."""
        event = Everything(
            order_id=shop.OrderId.new(),
            text="tea ☕",
            count=3,
            ratio=0.5,
            flag=True,
            missing=None,
            at=datetime.datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=datetime.UTC),
            day=datetime.date(2024, 5, 1),
            wait=datetime.timedelta(seconds=90.5),
            price=decimal.Decimal("19.99"),
            colour=Colour.BLUE,
            tags=("a", "b"),
            scores=[1, 2],
            unique=frozenset({"x"}),
            by_name={"a": 1.5},
            maybe_id=shop.OrderId(uuid.uuid4()),
            free={"any": ["json"]},
        )
        codec = DataclassEventCodec([Everything])
        topic, payload = codec.encode(event)
        assert topic == "Everything"
        assert codec.decode(topic, payload) == event

    def test_topics_can_be_named(self):
        """A topic given for a class replaces its class name, both ways."""
        codec = DataclassEventCodec([Renamed], topics={Renamed: "billing.renamed.v1"})
        topic, payload = codec.encode(Renamed(4))
        assert topic == "billing.renamed.v1"
        assert codec.decode(topic, payload) == Renamed(4)

    def test_floats_stored_as_whole_numbers_come_back_as_floats(self):
        """A float field holding 2.0 decodes as a float again."""
        codec = DataclassEventCodec([Everything])
        now = datetime.datetime.now(datetime.UTC)
        event = Everything(
            shop.OrderId.new(), "", 0, 2.0, flag=False, missing=None, at=now, day=now.date(),
            wait=datetime.timedelta(0), price=decimal.Decimal(0), colour=Colour.RED, tags=(),
            scores=[], unique=frozenset(), by_name={},
        )  # fmt: skip
        decoded = codec.decode(*codec.encode(event))
        assert isinstance(decoded.ratio, float)


class TestErrors:
    def test_an_unregistered_event_is_refused_at_encoding(self):
        """Encoding a class the codec was not given raises EventCodecError at once."""
        with pytest.raises(EventCodecError, match="not one of the event types"):
            DataclassEventCodec([Renamed]).encode(shop.OrderPlaced(shop.OrderId.new(), "ann"))

    def test_a_field_that_cannot_be_encoded_is_named(self):
        """A value of an unsupported type is refused with its type in the message."""

        @dataclasses.dataclass
        class Odd:
            thing: object

        with pytest.raises(EventCodecError, match="bytes values cannot be encoded"):
            DataclassEventCodec([Odd]).encode(Odd(b"raw"))

    def test_an_unknown_topic_is_refused(self):
        """Decoding a topic no class is registered for raises EventCodecError."""
        with pytest.raises(EventCodecError, match="'Elsewhere'"):
            DataclassEventCodec([Renamed]).decode("Elsewhere", "{}")

    @pytest.mark.parametrize("payload", ["{not json", '{"value": "seven"}', "[]"])
    def test_a_malformed_payload_is_refused(self, payload):
        """A payload that does not fit the class raises EventCodecError quoting it."""
        with pytest.raises(EventCodecError, match="cannot decode Renamed"):
            DataclassEventCodec([Renamed]).decode("Renamed", payload)

    def test_only_dataclasses_can_be_registered(self):
        """Registering a class that is not a dataclass raises TypeError."""
        with pytest.raises(TypeError, match="not a dataclass"):
            DataclassEventCodec([dict])

    def test_two_classes_cannot_share_a_topic(self):
        """Two classes mapped to one topic are refused, both named."""

        @dataclasses.dataclass
        class Other:
            value: int

        with pytest.raises(ValueError, match="used by both"):
            DataclassEventCodec([Renamed, Other], topics={Other: "Renamed"})
