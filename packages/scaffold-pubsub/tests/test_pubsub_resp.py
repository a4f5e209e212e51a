"""The RESP2 reader behind the Redis backend: replies split anywhere, every reply kind."""

import pytest

from scaffold.pubsub import PubSubError
from scaffold.pubsub._redis_wire import RedisErrorReply, RespReader, pack_command

STREAM = (
    b"*3\r\n$9\r\nsubscribe\r\n$4\r\nchat\r\n:1\r\n"
    b"*3\r\n$7\r\nmessage\r\n$4\r\nchat\r\n$12\r\nline1\r\nline2\r\n"
    b"+PONG\r\n"
    b"-ERR unknown command 'NOPE'\r\n"
    b"$-1\r\n"
    b"*-1\r\n"
    b"*2\r\n*1\r\n:7\r\n$0\r\n\r\n"
)
EXPECTED = [
    [b"subscribe", b"chat", 1],
    [b"message", b"chat", b"line1\r\nline2"],
    b"PONG",
    "ERR unknown command 'NOPE'",
    None,
    None,
    [[7], b""],
]


def plain(replies: list) -> list:
    return [r.message if isinstance(r, RedisErrorReply) else r for r in replies]


def test_whole_stream_at_once():
    """Every reply kind the backend meets, including a payload holding CR LF."""
    assert plain(RespReader().feed(STREAM)) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_stream_split_into_small_pieces(size: int):
    """TCP may cut a reply anywhere: pieces of any size give the same replies, in order."""
    reader = RespReader()
    replies = []
    for start in range(0, len(STREAM), size):
        replies += reader.feed(STREAM[start : start + size])
    assert plain(replies) == EXPECTED


def test_a_reply_is_returned_only_once_complete():
    """Half a bulk string yields nothing; the rest completes it."""
    reader = RespReader()
    assert reader.feed(b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$5\r\nhel") == []
    assert reader.feed(b"lo\r\n") == [[b"message", b"c", b"hello"]]


def test_garbage_is_an_error_naming_it():
    """A byte stream that is not RESP is reported, not skipped."""
    with pytest.raises(PubSubError, match="unexpected reply from Redis"):
        RespReader().feed(b"?what\r\n")


def test_pack_command_counts_bytes_not_characters():
    """Bulk string lengths are byte counts, so binary and UTF-8 payloads survive."""
    payload = "héllo".encode()
    assert pack_command(b"PUBLISH", b"c", payload) == (
        b"*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$6\r\n" + payload + b"\r\n"
    )
