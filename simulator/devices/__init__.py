"""Device descriptions (GPUs, edge SoCs, CPUs), software runtime profiles and calibration."""

from .config import Device, Runtime, list_devices, load_calibration, load_device, load_runtime, runtime_for  # noqa: F401
