"""Background work for the UI: the modem, printer, network and store never run on the Kivy thread.

Each worker thread opens its own store connection; results come back through Clock, so
callbacks always run on the Kivy thread.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from kivy.clock import Clock

from kiosk.appliance.config import Config
from ..errors import TdpError
from kiosk.appliance.store import open_store

log = logging.getLogger(__name__)
STATUS_SECONDS = 5.0


class Services:
    def __init__(self, config: Config, describe: Callable[[BaseException], str], workers: int = 2):
        self.config = config
        self.describe = describe
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-worker")
        self._local = threading.local()
        self._stores = []
        self._lock = threading.Lock()

    def store(self):
        """This thread's connection to the shared store."""
        if getattr(self._local, "store", None) is None:
            self._local.store = open_store(self.config.storage.path)
            with self._lock:
                self._stores.append(self._local.store)
        return self._local.store

    def call(self, fn: Callable, *args, on_done: Callable | None = None,
             on_error: Callable[[str], None] | None = None, **kwargs) -> None:
        """Run `fn(store, *args, **kwargs)` in a worker; deliver its result, or a one-sentence message
        for the resident (see kiosk/ui/messages.py), on the Kivy thread. Unexpected exceptions
        are logged with their traceback, never shown."""
        def work():
            try:
                result = fn(self.store(), *args, **kwargs)
            except Exception as exc:
                if not isinstance(exc, TdpError):
                    log.exception("background task %s failed", getattr(fn, "__name__", fn))
                if on_error:
                    Clock.schedule_once(lambda dt, exc=exc: on_error(self.describe(exc)))
                return
            if on_done:
                Clock.schedule_once(lambda dt: on_done(result))
        self._executor.submit(work)

    def watch_status(self, callback: Callable[[dict], None]) -> None:
        """Refresh the Home status line (duty, modem, printer, hub) now and every few seconds."""
        from kiosk.appliance.status import gather

        def refresh(_dt=None):
            self.call(gather, self.config, on_done=callback)
        refresh()
        Clock.schedule_interval(refresh, STATUS_SECONDS)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()
