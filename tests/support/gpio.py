"""gpiozero's MockFactory as the global pin factory for one test, restored afterwards."""
import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory


@pytest.fixture
def factory():
    """A MockFactory installed as gpiozero's global factory, restored afterwards."""
    saved = Device.pin_factory
    mock = MockFactory()
    Device.pin_factory = mock
    try:
        yield mock
    finally:
        mock.reset()
        Device.pin_factory = saved
