"""The engine's partitions: many partition key values share one partition and its limit, a
partition that stays hot splits for heat, and one item stays capped however long it is hot."""

from __future__ import annotations

from types import SimpleNamespace

from engine.throttle import HASH_SPACE, PartitionThrottle, Placement, Write

TABLE = ("123456789012", "ap-northeast-1", "likes", "")
ON_DEMAND = (0, 0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def write(hash_value: int, sort: str = "", units: int = 1) -> Write:
    return Write((Placement(TABLE, (hash_value, sort), ON_DEMAND),), units)


def accepted_per_second(
    throttle: PartitionThrottle, clock: Clock, writes: list[Write], seconds: int
) -> list[int]:
    """Offer `writes` ten times a second, spread evenly; count what each second accepted."""
    counts = []
    for _second in range(seconds):
        accepted = 0
        for _tick in range(10):
            clock.now += 0.1
            accepted += sum(throttle.admit([one]) for one in writes)
        counts.append(accepted)
    return counts


def test_keys_on_one_partition_share_its_limit() -> None:
    clock = Clock()
    throttle = PartitionThrottle(5, partitions=1, clock=clock)

    admitted = [throttle.admit([write(key)]) for key in (1, 2, 3, 4, 5, 6, 7)]

    assert admitted == [True] * 5 + [False] * 2  # seven keys, one partition, 5 units


def test_keys_on_other_partitions_are_not_charged() -> None:
    clock = Clock()
    throttle = PartitionThrottle(2, partitions=2, clock=clock)
    low, high = 10, HASH_SPACE // 2 + 10

    assert [throttle.admit([write(low)]) for _ in range(3)] == [True, True, False]
    assert [throttle.admit([write(high)]) for _ in range(2)] == [True, True]


def test_a_hot_partition_splits_and_its_keys_stop_throttling_each_other() -> None:
    clock = Clock()
    throttle = PartitionThrottle(10, partitions=1, split_after=3, clock=clock)
    hot_keys = [write(100), write(HASH_SPACE // 2)]  # 20 writes/s offered to a 10/s partition

    counts = accepted_per_second(throttle, clock, hot_keys, seconds=8)

    assert throttle.splits == 1
    assert max(counts[1:3]) <= 11  # one partition (after its first full second): its limit
    assert min(counts[-3:]) >= 19  # split: each key has a partition of its own
    assert throttle.partition_counts() == {"likes": 2}


def test_one_hot_item_is_never_split_and_stays_at_the_limit() -> None:
    clock = Clock()
    throttle = PartitionThrottle(10, partitions=1, split_after=2, clock=clock)

    counts = accepted_per_second(throttle, clock, [write(7), write(7)], seconds=8)

    assert throttle.splits == 0
    assert max(counts[1:]) <= 11


def test_an_item_collection_can_split_between_its_items() -> None:
    """Items of one partition key value, told apart by sort key, may go to two partitions."""
    clock = Clock()
    throttle = PartitionThrottle(10, partitions=1, split_after=2, clock=clock)

    counts = accepted_per_second(throttle, clock, [write(7, "a"), write(7, "b")], seconds=6)

    assert throttle.splits == 1 and min(counts[-2:]) >= 19


def test_a_partition_that_cools_down_forgets_its_heat() -> None:
    clock = Clock()
    throttle = PartitionThrottle(10, partitions=1, split_after=3, clock=clock)
    hot_keys = [write(100), write(HASH_SPACE // 2)]

    accepted_per_second(throttle, clock, hot_keys, seconds=2)
    clock.now += 5  # quiet: no longer hot
    accepted_per_second(throttle, clock, hot_keys, seconds=2)

    assert throttle.splits == 0  # never hot for 3 s in a row


def test_a_provisioned_table_starts_with_a_partition_per_limit_of_capacity() -> None:
    clock = Clock()
    throttle = PartitionThrottle(10, clock=clock)
    provisioned = (40, 30)  # 40 write units: 4 partitions; 30 read units: 1 more

    throttle.admit([Write((Placement(TABLE, (1, ""), provisioned),), 1)])

    assert throttle.partition_counts() == {"likes": 5}


def test_a_table_provisioned_for_keys_apart_gives_each_key_a_partition_of_its_own() -> None:
    """What the hot-partition lab sizes its sharded table with: by this engine's hash and its
    rule for provisioned tables, each shard key lands on a partition no other shard shares."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    from engine.throttle import _placements, partitions_apart, provisioned_for

    keys = ["42", *(f"42#{shard}" for shard in range(1, 8))]
    count = partitions_apart(keys)
    assert count >= len(keys) and partitions_apart(keys) == count  # the same on every run

    clock = Clock()
    throttle = PartitionThrottle(3, clock=clock)
    writes_units, read_units = provisioned_for(count, 3)
    account, region, name, _index = TABLE
    table = SimpleNamespace(  # what `_placements` reads of a moto table
        account_id=account,
        region_name=region,
        name=name,
        global_indexes=[],
        throughput={"WriteCapacityUnits": writes_units, "ReadCapacityUnits": read_units},
    )
    writes = [
        Write(_placements(table, DynamoType({"S": key}), DynamoType({"S": "COUNT"}), {}), 1)
        for key in keys
    ]
    assert [[throttle.admit([one]) for _ in range(3)] for one in writes] == [[True] * 3] * 8
    assert throttle.partition_counts() == {"likes": count}
