"""PIM architectures, chosen by ``architecture:`` in a PIM preset (hw_configs/pim/*.yaml).

An architecture owns what differs between PIM designs: the DRAM commands it needs (by their
flags, so each design names its own commands in its DRAM table), how a GEMV is lowered to those commands
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

# the all-bank commands the shipped lowering streams (simulator/pim/lowering.py), by their exact flag
# set in the DRAM table (``flags:``; the names are the DRAM table's own)
ALL_BANK_COMMANDS = {
    "activate_all": ("pim", "opens", "all_banks"),   # open one row in every bank of the channel
    "mac_all": ("pim", "read", "all_banks"),         # one column of every open bank x the global buffer
    "write_gb": ("pim", "write", "data"),            # one burst of the input vector into the global buffer
    "read_result": ("pim", "read", "data"),          # one burst of bank results out of the channel
}


def pim_commands(std, commands=None) -> dict:
    """Command ids in ``std`` of a PIM architecture's commands (``commands``: name -> flag names; default
    ALL_BANK_COMMANDS), plus ``precharge_all`` and ``refresh_all`` (the standard's PREab / REFab): name ->
    id, -1 where the table has no such command."""
    from ..dram.state import SEL_PREA, SEL_REFAB
    out = {name: std.command_by_flags(fl) for name, fl in (commands or ALL_BANK_COMMANDS).items()}
    sel = std.selectors()
    out.update(precharge_all=int(sel[SEL_PREA]), refresh_all=int(sel[SEL_REFAB]))
    return out


class PimArchitecture:
    """Base class: the AiM-style all-bank lowering and DRAMPower-style energy.

    name: the registry name (``architecture:`` in a preset); commands: the PIM commands the DRAM table
    must provide (name -> exact flag set); mac_timing: the timing name of one all-bank MAC step,
    stretched at load time to the MAC unit's clock x banks per unit (None: the architecture paces its MACs itself)."""

    name = ""
    commands = ALL_BANK_COMMANDS
    mac_timing: str | None = "nMAC"

    def check(self, std, src, dram_name) -> None:
        """Raise ConfigError (``src``: dram) when the DRAM table lacks a command this architecture needs."""
        missing = [f"{n} (flags [{', '.join(fl)}])" for n, fl in self.commands.items()
                   if std.command_by_flags(fl) < 0]
        if missing:
            raise ConfigError(src, "dram", f"{dram_name} has no PIM commands {'; '.join(missing)} that "
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
