"""
The optuna storage that ``--storage`` names, for the workers that share one study (docs/scale.md):

- a path ending in ``.log``: a journal file, which rl_zoo3 opens with optuna's ``JournalFileBackend`` (workers on one
  machine, or on a shared file system whose locks they all see);
- a database URL, such as ``postgresql://user:password@host:5432/database``: optuna's ``RDBStorage``, for workers on
  any number of machines. SQLAlchemy 2.1 and later open ``postgresql://`` with psycopg 3, the driver that the
  ``distributed`` extra installs (``pip install 'sb3-reinforce[distributed]'``). ``postgres://`` (libpq's other
  spelling, unknown to SQLAlchemy) is read as ``postgresql://``.

A database storage opened here differs from optuna's defaults in three ways:

- a heartbeat: the worker records one for its running trial every ``heartbeat_interval`` seconds (a thread of
  optuna's). When a worker dies mid-trial, the next worker to start a trial marks that trial FAIL once its last
  heartbeat is ``grace_period`` seconds old. Without a heartbeat, the trial would stay RUNNING for ever;
- ``pool_pre_ping``: a connection is checked before it is used, since a trial can outlast the server's (or a
  firewall's) idle timeout;
- workers that start at once on an empty database race to create optuna's tables, and PostgreSQL refuses all but
  one (``duplicate key value violates unique constraint "pg_type_typname_nsp_index"``). The losers try again, once
  the winner's tables are there.
"""

import random
import time
import warnings
from typing import Any

import optuna

from sb3_reinforce.extras import MissingExtraError, require_extra

HEARTBEAT_INTERVAL = 60
"""Seconds between two heartbeats of a running trial, by default (optuna's ``heartbeat_interval``). A dead worker's
trial is marked FAIL after ``grace_period`` seconds, by default two intervals (optuna's default)"""

# How often a worker that lost the race to create optuna's tables tries again
_TABLE_RACE_ATTEMPTS = 8


def is_journal(storage: str) -> bool:
    """:return: Whether ``storage`` is a journal file, as rl_zoo3 2.9.x decides it (a path ending in ``.log``)"""
    return storage.endswith(".log")


def hide_password(url: str) -> str:
    """:return: ``url`` with its password (if any) replaced by ``***``, for messages"""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def database_url(storage: str, needed_by: str = "--storage") -> str:
    """
    Check a ``--storage`` that is not a journal file: a database URL that SQLAlchemy can parse, whose driver is
    installed.

    :param storage: The URL
    :param needed_by: What needs the driver, for the message
    :return: The URL as SQLAlchemy opens it (``postgres://`` becomes ``postgresql://``)
    :raise ValueError: For a value that is not a database URL, naming it
    :raise MissingExtraError: In one line, if the URL's driver is missing: the ``distributed`` extra's for
        PostgreSQL with psycopg (the default driver of ``postgresql://``)
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if storage.startswith("postgres://"):
        storage = "postgresql://" + storage.removeprefix("postgres://")
    try:
        url = make_url(storage)
        dialect = url.get_dialect()
    except (ArgumentError, NoSuchModuleError) as error:
        raise ValueError(
            f"--storage {storage!r} is neither a journal file (a path ending in .log) nor a database URL "
            f"(e.g. postgresql://user:password@host:5432/database): {error}"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as error:
        if url.get_backend_name() == "postgresql" and dialect.driver == "psycopg":
            require_extra("distributed", needed_by)
        hint = ""
        if dialect.driver == "psycopg2":  # SQLAlchemy 2.0's postgresql://
            hint = "; or postgresql+psycopg://, with pip install 'sb3-reinforce[distributed]'"
        raise MissingExtraError(
            f"{needed_by} needs the {dialect.driver} driver of SQLAlchemy's {url.get_backend_name()} dialect ({error}): "
            f"install it{hint}"
        ) from None
    return storage


def check_heartbeat(heartbeat_interval: int | None, grace_period: int | None) -> None:
    """
    :param heartbeat_interval: Seconds between two heartbeats, or None
    :param grace_period: Seconds after the last heartbeat before a trial is failed, or None
    :raise ValueError: Naming the value, unless each is None or positive, and a grace period comes with a heartbeat
    """
    if heartbeat_interval is not None and heartbeat_interval <= 0:
        raise ValueError(f"--heartbeat-interval must be a positive number of seconds (0: none), got {heartbeat_interval}")
    if grace_period is not None and grace_period <= 0:
        raise ValueError(f"--grace-period must be a positive number of seconds, got {grace_period}")
    if grace_period is not None and heartbeat_interval is None:
        raise ValueError(f"--grace-period {grace_period} needs a heartbeat, but --heartbeat-interval is 0 (none)")


def open_storage(
    storage: str, heartbeat_interval: int | None = HEARTBEAT_INTERVAL, grace_period: int | None = None
) -> optuna.storages.BaseStorage:
    """
    Open ``--storage`` as the workers of ``sb3-reinforce-zoo train -optimize`` do; also what to give
    ``optuna.load_study`` to read a study::

        study = optuna.load_study(study_name="reinforce-cartpole", storage=open_storage("postgresql://..."))

    :param storage: A journal file (a path ending in ``.log``) or a database URL
    :param heartbeat_interval: Seconds between two heartbeats of a running trial; None: no heartbeat. Database URLs
        only (optuna's journal storage has no heartbeat)
    :param grace_period: Seconds after a trial's last heartbeat before another worker marks it FAIL (default: two
        intervals)
    :return: The storage
    :raise ValueError: For a ``storage`` that is neither, or a bad interval or grace period, naming the value
    :raise MissingExtraError: If the URL's driver is missing (:func:`database_url`)
    """
    if is_journal(storage):
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))  # type: ignore[attr-defined]
    url = database_url(storage)
    check_heartbeat(heartbeat_interval, grace_period)
    return _rdb_storage(
        url,
        engine_kwargs={"pool_pre_ping": True},
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
    )


def _rdb_storage(url: str, **kwargs: Any) -> optuna.storages.RDBStorage:
    """optuna's RDBStorage, trying again while another worker is creating the tables (measured: 2 of 3 workers
    started at once on an empty PostgreSQL database fail without it)."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    with warnings.catch_warnings():
        # The heartbeat is "experimental" in optuna 4 and 5: asked for here, so the warning of every worker is noise
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for _ in range(_TABLE_RACE_ATTEMPTS - 1):
            try:
                return optuna.storages.RDBStorage(url, **kwargs)
            except (IntegrityError, ProgrammingError):
                time.sleep(random.uniform(0.2, 1.0))  # the winner's tables are there, or soon will be
        return optuna.storages.RDBStorage(url, **kwargs)
