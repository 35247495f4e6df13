"""PIM architectures, chosen by ``architecture:`` in a PIM preset (hw_configs/pim/*.yaml).

An architecture owns what differs between PIM designs: the DRAM commands it needs (by role, so
each design names its own commands in its DRAM table), how a GEMV is lowered to those commands
and costed (:meth:`PimArchitecture.gemv_cost`), and the token's energy
(:meth:`PimArchitecture.energy_pj`). A new design is a subclass and one line::

    register_architecture(MyPim())

Shipped: ``aim`` (SK hynix GDDR6-AiM / PIM-GPT: a MAC unit per bank, a global buffer per
channel) and ``hbm-pim`` (Samsung HBM-PIM: a PCU per ``mac.banks_per_unit`` banks, GRF_A/GRF_B
register files as the global buffer and result latches). Both lower with
:func:`simulator.pim.lowering.gemv_cost`; they differ in their DRAM tables and parameters.
"""

from __future__ import annotations

from ..errors import ConfigError

# roles of the all-bank commands the shipped lowering streams (simulator/pim/lowering.py)
ALL_BANK_ROLES = ("pim_activate_all", "pim_mac_all", "pim_write_gb", "pim_read_result")


class PimArchitecture:
    """Base class: the AiM-style all-bank lowering and DRAMPower-style energy.

    name: the registry name (``architecture:`` in a preset); roles: command roles the DRAM table
    must provide; mac_timing: the timing name of one all-bank MAC step, stretched at load time to
    the MAC unit's clock x banks per unit (None: the architecture paces its MACs itself)."""

    name = ""
    roles = ALL_BANK_ROLES
    mac_timing: str | None = "nMAC"

    def check(self, std, src, dram_name) -> None:
        """Raise ConfigError (``src``: dram) when the DRAM table lacks a command this architecture needs."""
        missing = [r for r in self.roles if r not in std.roles]
        if missing:
            raise ConfigError(src, "dram", f"{dram_name} has no PIM commands with the roles {', '.join(missing)} that "
                              f"architecture {self.name!r} streams")
        if self.mac_timing and self.mac_timing not in std.timing:
            raise ConfigError(src, "dram", f"{dram_name} has no timing {self.mac_timing} (one all-bank MAC step, "
                              f"cycles) that architecture {self.name!r} needs")

    def gemv_cost(self, pim, n: int, k: int, memo: bool = True):
        """:class:`~simulator.pim.lowering.GemvCost` of an (n x k) GEMV on all channels (times in ns)."""
        from .lowering import gemv_cost
        return gemv_cost(pim, n, k, memo)

    def energy_pj(self, pim, counts: dict, latency_ns: float, asic_flops: float) -> dict:
        """Energy of one token in pJ: dram (per-command energy from the table's IDD currents, all
        banks of an all-bank command, plus I/O pJ/bit), mac (lanes x mac_pj per bank MAC step),
        asic (asic_pj_per_op x operations) and background (VDD x IDD3N x time).

        ``counts``: acts, macs, gb_writes, result_reads, writes, refreshes over all channels."""
        from ..dram.energy import per_command_energy_pj
        std, banks = pim.std, pim.banks
        per = per_command_energy_pj(std)
        dram = (counts["acts"] * banks * per["activate"] + counts["macs"] * banks * per["read"]
                + (counts["gb_writes"] + counts["writes"]) * per["write"] + counts["result_reads"] * per["read"]
                + counts["refreshes"] * per["refresh"])
        io_bytes = (counts["gb_writes"] + counts["writes"] + counts["result_reads"]) * std.tx_bytes
        dram += io_bytes * 8 * std.energy.get("io_pj_per_bit", 0.0)
        e = std.energy
        background = e["vdd_v"] * e["idd3n_ma"] * latency_ns * std.devices_per_rank * std.channels
        mac = counts["macs"] * banks * pim.mac["lanes"] * pim.energy["mac_pj"]
        return {"dram": dram, "mac": mac, "asic": asic_flops * pim.energy["asic_pj_per_op"],
                "background": background}


class AimArchitecture(PimArchitecture):
    """SK hynix GDDR6-AiM / PIM-GPT: one MAC unit per bank, a global buffer per channel."""

    name = "aim"


class HbmPimArchitecture(PimArchitecture):
    """Samsung HBM-PIM (Aquabolt-XL): one PCU per two banks, GRF_A/GRF_B register files."""

    name = "hbm-pim"


ARCHITECTURES: dict = {}


def register_architecture(arch: PimArchitecture) -> PimArchitecture:
    """Add ``arch`` to the registry under ``arch.name`` (replacing one of that name)."""
    if not arch.name:
        raise ValueError("a PIM architecture needs a name")
    ARCHITECTURES[arch.name] = arch
    return arch


def architecture(name: str, src="pim preset") -> PimArchitecture:
    """The registered architecture ``name``. Raises ConfigError (``src``: architecture) listing them."""
    if name not in ARCHITECTURES:
        raise ConfigError(src, "architecture", f"{name!r} is not one of: {', '.join(sorted(ARCHITECTURES))}")
    return ARCHITECTURES[name]


register_architecture(AimArchitecture())
register_architecture(HbmPimArchitecture())
