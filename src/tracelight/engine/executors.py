"""The engines: one `map(fn, items)` over a cluster's workers, one task per item.

- spark: PySpark. `master` is a Spark master URL ("local[2]", "spark://host:7077",
  "yarn", "k8s://..."); None leaves it to spark-submit. The tasks are an RDD of one partition
  per shard, so Spark schedules, retries and spreads them.
- ray: Ray tasks. `address` is a Ray cluster ("auto", "ray://head:10001"); None starts a
  local Ray with `workers` CPUs.
- local: a process pool on this machine (no engine; for tests and comparisons).

Each worker must be able to import tracelight: install the package on the nodes (or ship it:
`spark-submit --py-files`, Ray's `runtime_env`; docs/scale.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from tracelight.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")


def _worker_env() -> dict[str, str]:
    """Environment the workers need to import tracelight from where this driver did."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = [here, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
    return {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


class Executor:
    name = "local"

    def __init__(self, workers: int = 2) -> None:
        self.workers = max(1, workers)
        self._pool: Any = None

    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        if self.workers > 1:
            import multiprocessing as mp

            self._pool = mp.get_context("spawn").Pool(self.workers)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self._pool is None:
            return [fn(i) for i in items]
        return list(self._pool.map(fn, items, chunksize=1))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None


class SparkExecutor(Executor):
    name = "spark"

    def __init__(self, master: str | None = None, workers: int = 2) -> None:
        super().__init__(workers)
        self.master = master
        self.spark: Any = None

    def start(self) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError("the spark engine needs PySpark",
                              hint="pip install 'tracelight[cluster]'") from None
        env = _worker_env()
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = (SparkSession.builder.appName("tracelight")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.executorEnv.PYTHONPATH", env["PYTHONPATH"])
                   .config("spark.python.worker.reuse", "true"))
        if self.master:
            builder = builder.master(self.master)
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if not items:
            return []
        rdd = self.spark.sparkContext.parallelize(list(items), len(items))
        return list(rdd.map(fn).collect())

    def close(self) -> None:
        if self.spark is not None:
            self.spark.stop()
            self.spark = None


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, workers: int = 2) -> None:
        super().__init__(workers)
        self.address = address
        self._ray: Any = None
        self._started = False

    def start(self) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("the ray engine needs Ray",
                              hint="pip install 'tracelight[cluster]'") from None
        self._ray = ray
        if not ray.is_initialized():
            kw: dict[str, Any] = {"runtime_env": {"env_vars": _worker_env()},
                                  "include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
            if self.address:
                ray.init(address=self.address, **kw)
            else:
                ray.init(num_cpus=self.workers, **kw)
            self._started = True

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        task = self._ray.remote(num_cpus=1, max_retries=2)(fn)
        return list(self._ray.get([task.remote(i) for i in items]))

    def close(self) -> None:
        if self._ray is not None and self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(engine: str, *, master: str | None = None, address: str | None = None,
                  workers: int = 2) -> Executor:
    if engine == "spark":
        return SparkExecutor(master, workers)
    if engine == "ray":
        return RayExecutor(address, workers)
    return Executor(workers)
