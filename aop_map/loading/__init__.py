"""mapdata YAML/CSV files -> validated records + a list of problems; no Streamlit, no network.

One bad record, row or file never stops the others, and nothing is dropped without a problem
saying where and why. Files are read through :mod:`aop_map.reading`: never through a link, and
refused (with one problem) when over a size, depth, alias or key limit. Validated files are
cached on disk keyed on path + mtime + size, so a second load of thousands of files costs a stat
per file and one read of the cache, whose shards are signed and checked before they are used.

The modules, each importing only those above it in this list:

- ``files``: the data directory, its vocabulary, and scanning it for record files;
- ``csv_sheets``: CSV sheets -> raw records (flexible headers, list cells, locations);
- ``cache``: the signed cache of validated files (``FileCache``) and its key;
- ``processing``: parsing and validating files, in helper processes when there are many;
- ``loader``: ``load_records``, a directory -> ``LoadResult``.
"""

from aop_map.loading.cache import (
    CACHE_DIR_NAME,
    CACHE_MAGIC,
    CACHE_VERSION,
    MAX_SHARDS,
    MIN_SECRET_BYTES,
    SHARD_FILES,
    FileCache,
    FileResult,
    cache_key,
    cache_secret,
    cache_secret_path,
    default_cache_dir,
)
from aop_map.loading.csv_sheets import normalise_header, parse_csv_text, split_list
from aop_map.loading.files import (
    BUNDLED_DATA_DIR,
    GAZETTEER_FILE,
    MAX_FOLDER_DEPTH,
    PACKAGE_ROOT,
    RECORD_SUFFIXES,
    RESERVED_FILES,
    SKIPPED_DIRS,
    VOCABULARY_FILE,
    FileStat,
    Skipped,
    data_dir_from_env,
    find_record_files,
    load_vocabulary,
    scan_record_files,
    vocabulary_path,
)
from aop_map.loading.loader import (
    FREEZE_MIN_FILES,
    MAX_PROBLEMS_PER_FILE,
    LoadResult,
    Origin,
    data_signature,
    load_records,
)
from aop_map.loading.processing import (
    MAX_LOAD_WORKERS,
    PARALLEL_MIN_FILES,
    Job,
    load_workers,
    parse_file,
    process_file,
    process_files,
    yaml_problem,
)

__all__ = [
    "BUNDLED_DATA_DIR",
    "CACHE_DIR_NAME",
    "CACHE_MAGIC",
    "CACHE_VERSION",
    "FREEZE_MIN_FILES",
    "GAZETTEER_FILE",
    "MAX_FOLDER_DEPTH",
    "MAX_LOAD_WORKERS",
    "MAX_PROBLEMS_PER_FILE",
    "MAX_SHARDS",
    "MIN_SECRET_BYTES",
    "PACKAGE_ROOT",
    "PARALLEL_MIN_FILES",
    "RECORD_SUFFIXES",
    "RESERVED_FILES",
    "SHARD_FILES",
    "SKIPPED_DIRS",
    "VOCABULARY_FILE",
    "FileCache",
    "FileResult",
    "FileStat",
    "Job",
    "LoadResult",
    "Origin",
    "Skipped",
    "cache_key",
    "cache_secret",
    "cache_secret_path",
    "data_dir_from_env",
    "data_signature",
    "default_cache_dir",
    "find_record_files",
    "load_records",
    "load_vocabulary",
    "load_workers",
    "normalise_header",
    "parse_csv_text",
    "parse_file",
    "process_file",
    "process_files",
    "scan_record_files",
    "split_list",
    "vocabulary_path",
    "yaml_problem",
]
