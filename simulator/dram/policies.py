"""Numbers the numba controller (:mod:`.core`) shares with the code that configures it: the
scheduling-policy ids and the core's semantics version. Kept apart from ``core`` so that loading a
standard (:mod:`.standard`) or keying a cache does not import numba and compile the core."""

# scheduling policies of the read/write buffers (SCHEDULERS below maps the config names to these ids;
# an integer id with an inlined switch keeps the controller loop a single compiled function)
P_FRFCFS_RAMULATOR2 = 0  # first ready, first come first served as the reference (Ramulator 2.1) does it:
                         # the oldest ready command wins, so an older row-conflict request's ready PRE
                         # closes a row that younger queued requests still hit
P_FRFCFS_CAP = 1   # as P_FRFCFS_RAMULATOR2, but at most row_hit_cap column accesses per activation bypass
                   # an older request to another row of the same bank
P_FCFS = 2         # the oldest eligible request only: it issues when ready, else the buffer waits
P_FRFCFS = 3       # FR-FCFS with the open-row precharge rule of Rixner et al., "Memory Access Scheduling",
                   # ISCA 2000 (a bank is precharged only when no pending reference hits its active
                   # row): as P_FRFCFS_RAMULATOR2, but a PRE is not eligible while a request in the
                   # buffer being served hits the bank's open row (hits in the other buffer do not hold
                   # it: that buffer may not be served until this one drains)
# config names (ControllerConfig.scheduler, the standards' controller.scheduler, --scheduler)
SCHEDULERS = {"frfcfs": P_FRFCFS, "frfcfs-ramulator2": P_FRFCFS_RAMULATOR2, "frfcfs-cap": P_FRFCFS_CAP,
              "fcfs": P_FCFS}


# Bump when the controller's semantics change (result caches key on it).
CORE_VERSION = 3
