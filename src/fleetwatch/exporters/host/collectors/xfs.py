"""xfs: per-filesystem XFS statistics of /sys/fs/xfs/<device>/stats/stats.

    node_xfs_extent_allocation_extents_allocated_total{device="sda1"} 92447
    node_xfs_read_calls_total{device="sda1"} 94045

The format is /proc/fs/xfs/stat's (one ``<label> <n> <n> ...`` line per group), parsed as
prometheus/procfs 0.8 does for node_exporter 1.5: every value of a line is an unsigned 32-bit
integer (``xpc`` 64-bit); a known group with the wrong number of values is an error; ``rw`` is
``<write calls> <read calls>``.  The global /proc/fs/xfs/stat is not exported (node_exporter
reads only the per-device files).  No XFS filesystem mounted: nothing, successfully.
"""

from __future__ import annotations

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, Spec, counter
from fleetwatch.exporters.host.collectors._sysfs import uint
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

SYS_XFS = "/sys/fs/xfs"
PATTERN = f"{SYS_XFS}/*/stats/stats"
# group -> accepted numbers of values
GROUPS: dict[str, tuple[int, ...]] = {
    "extent_alloc": (4,), "abt": (4,), "blk_map": (7,), "bmbt": (4,), "dir": (4,),
    "trans": (3,), "ig": (7,), "log": (5,), "rw": (2,), "attr": (4,), "icluster": (3,),
    "vnodes": (7, 8), "buf": (9,), "xpc": (3,),
    # parsed (and checked) by procfs though node_exporter exports none of them
    "push_ail": (10,), "xstrat": (2,), "abtb2": (15,), "abtc2": (15,), "bmbt2": (15,),
    "ibt2": (15,), "qm": (8, 9), "debug": (1,),
}  # fmt: skip
_U32 = 1 << 32


def _c(name: str, help: str) -> Spec:
    return counter(f"node_xfs_{name}", help, "device")


_FS = "for a filesystem."
_BT = "B-tree"
# (group, index) -> family
METRICS: dict[tuple[str, int], Spec] = {
    ("extent_alloc", 0): _c("extent_allocation_extents_allocated_total",
                            f"Number of extents allocated {_FS}"),
    ("extent_alloc", 1): _c("extent_allocation_blocks_allocated_total",
                            f"Number of blocks allocated {_FS}"),
    ("extent_alloc", 2): _c("extent_allocation_extents_freed_total",
                            f"Number of extents freed {_FS}"),
    ("extent_alloc", 3): _c("extent_allocation_blocks_freed_total",
                            f"Number of blocks freed {_FS}"),
    ("abt", 0): _c("allocation_btree_lookups_total", f"Number of allocation {_BT} lookups {_FS}"),
    ("abt", 1): _c("allocation_btree_compares_total",
                   f"Number of allocation {_BT} compares {_FS}"),
    ("abt", 2): _c("allocation_btree_records_inserted_total",
                   f"Number of allocation {_BT} records inserted {_FS}"),
    ("abt", 3): _c("allocation_btree_records_deleted_total",
                   f"Number of allocation {_BT} records deleted {_FS}"),
    ("blk_map", 0): _c("block_mapping_reads_total",
                       f"Number of block map for read operations {_FS}"),
    ("blk_map", 1): _c("block_mapping_writes_total",
                       f"Number of block map for write operations {_FS}"),
    ("blk_map", 2): _c("block_mapping_unmaps_total", f"Number of block unmaps (deletes) {_FS}"),
    ("blk_map", 3): _c("block_mapping_extent_list_insertions_total",
                       f"Number of extent list insertions {_FS}"),
    ("blk_map", 4): _c("block_mapping_extent_list_deletions_total",
                       f"Number of extent list deletions {_FS}"),
    ("blk_map", 5): _c("block_mapping_extent_list_lookups_total",
                       f"Number of extent list lookups {_FS}"),
    ("blk_map", 6): _c("block_mapping_extent_list_compares_total",
                       f"Number of extent list compares {_FS}"),
    ("bmbt", 0): _c("block_map_btree_lookups_total", f"Number of block map {_BT} lookups {_FS}"),
    ("bmbt", 1): _c("block_map_btree_compares_total", f"Number of block map {_BT} compares {_FS}"),
    ("bmbt", 2): _c("block_map_btree_records_inserted_total",
                    f"Number of block map {_BT} records inserted {_FS}"),
    ("bmbt", 3): _c("block_map_btree_records_deleted_total",
                    f"Number of block map {_BT} records deleted {_FS}"),
    ("dir", 0): _c("directory_operation_lookup_total",
                   "Number of file name directory lookups which miss the operating systems "
                   "directory name lookup cache."),
    ("dir", 1): _c("directory_operation_create_total",
                   f"Number of times a new directory entry was created {_FS}"),
    ("dir", 2): _c("directory_operation_remove_total",
                   f"Number of times an existing directory entry was created {_FS}"),
    ("dir", 3): _c("directory_operation_getdents_total",
                   f"Number of times the directory getdents operation was performed {_FS}"),
    ("ig", 0): _c("inode_operation_attempts_total",
                  "Number of times the OS looked for an XFS inode in the inode cache."),
    ("ig", 1): _c("inode_operation_found_total",
                  "Number of times the OS looked for and found an XFS inode in the inode cache."),
    ("ig", 2): _c("inode_operation_recycled_total",
                  "Number of times the OS found an XFS inode in the cache, but could not use it "
                  "as it was being recycled."),
    ("ig", 3): _c("inode_operation_missed_total",
                  "Number of times the OS looked for an XFS inode in the cache, but did not "
                  "find it."),
    ("ig", 4): _c("inode_operation_duplicates_total",
                  "Number of times the OS tried to add a missing XFS inode to the inode cache, "
                  "but found it had already been added by another process."),
    ("ig", 5): _c("inode_operation_reclaims_total",
                  "Number of times the OS reclaimed an XFS inode from the inode cache to free "
                  "memory for another purpose."),
    ("ig", 6): _c("inode_operation_attribute_changes_total",
                  "Number of times the OS explicitly changed the attributes of an XFS inode."),
    ("rw", 1): _c("read_calls_total",
                  "Number of read(2) system calls made to files in a filesystem."),
    ("rw", 0): _c("write_calls_total",
                  "Number of write(2) system calls made to files in a filesystem."),
    ("vnodes", 0): _c("vnode_active_total", f"Number of vnodes not on free lists {_FS}"),
    ("vnodes", 1): _c("vnode_allocate_total", f"Number of times vn_alloc called {_FS}"),
    ("vnodes", 2): _c("vnode_get_total", f"Number of times vn_get called {_FS}"),
    ("vnodes", 3): _c("vnode_hold_total", f"Number of times vn_hold called {_FS}"),
    ("vnodes", 4): _c("vnode_release_total", f"Number of times vn_rele called {_FS}"),
    ("vnodes", 5): _c("vnode_reclaim_total", f"Number of times vn_reclaim called {_FS}"),
    ("vnodes", 6): _c("vnode_remove_total", f"Number of times vn_remove called {_FS}"),
}  # fmt: skip


def parse_xfs_stat(text: str, source: str) -> dict[str, list[int]]:
    """group -> values of every line with a label and at least one value."""
    out: dict[str, list[int]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        label = fields[0]
        values = [uint(v, source) for v in fields[1:]]
        if label != "xpc" and any(v >= _U32 for v in values):
            raise ParseError(source, f"{label}: value out of 32-bit range")
        counts = GROUPS.get(label)
        if counts is not None and len(values) not in counts:
            raise ParseError(source, f"{label}: {len(values)} values, expected {counts}")
        out[label] = values
    return out


class XfsCollector(Collector):
    name = "xfs"
    specs = tuple(METRICS.values())

    def files(self, opts: Options) -> tuple[str, ...]:
        return (PATTERN,)

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for path, text in snap.glob(PATTERN):
            device = path[len(SYS_XFS) + 1 :].split("/", 1)[0]
            groups = parse_xfs_stat(text, path)
            for (group, index), spec in METRICS.items():
                values = groups.get(group)
                out.add(spec, values[index] if values else 0, device)


COLLECTORS = [XfsCollector]
