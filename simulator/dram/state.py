"""Named layout of the numba core's arrays: command flags, the controller's command selectors, the
run configuration vector, per-channel / per-bank state columns, buffer ids and statistics columns.

Kept apart from :mod:`.core` (no numba) so that :mod:`.standard` and :mod:`.run` can build and decode
the arrays without compiling the core. Every name is an index (or a bit) into an int64 array; numba
folds these module constants into the compiled code.
"""

# ---- per-command flags (DramStandard.arrays()["cmd_flags"], one int64 bit set per command) ----------
F_OPENS = 1           # opens a row: the bank becomes open (ACT, LPDDR5 ACT2, all-bank PIM ACT)
F_OPEN_BEGIN = 2      # begins a split activation; the bank opens at the matching F_OPENS command (ACT1)
F_CLOSES = 4          # closes the row of every target bank (PRE, PREA, RDA, WRA)
F_READ = 8            # a column read (RD, RDA, PIM result read)
F_WRITE = 16          # a column write (WR, WRA, PIM global-buffer write)
F_REFRESH = 32        # refreshes its target banks (REFab, REFpb)
F_ALL_BANKS = 64      # targets every bank under its scope node (else one bank)
F_WCK_SYNC = 128      # WCK-to-CK synchronisation before a column access (LPDDR5 CAS)
F_DATA = 256          # moves one burst over the channel's data bus (RD/WR/RDA/WRA)
F_PIM = 512           # a processing-in-memory command (streamed in order, never chosen by the scheduler)
F_BANK_PAIR = 1024    # a per-bank refresh that also refreshes the bank half its refresh unit's banks away
#                       (LPDDR5 REFpb in BG and 16-bank mode refreshes banks n and n + 8, JESD209-5)
FLAG_NAMES = {"opens": F_OPENS, "open_begin": F_OPEN_BEGIN, "closes": F_CLOSES, "read": F_READ,
              "write": F_WRITE, "refresh": F_REFRESH, "all_banks": F_ALL_BANKS, "wck_sync": F_WCK_SYNC,
              "data": F_DATA, "pim": F_PIM, "bank_pair": F_BANK_PAIR}

# ---- command selectors (arrays()["sel"]): the command the controller issues for each purpose, -1 if none
SEL_ACT, SEL_ACT1, SEL_ACT2, SEL_PRE, SEL_PREA, SEL_RD, SEL_WR, SEL_RDA, SEL_WRA, SEL_REFAB, SEL_REFPB, \
    SEL_CASRD, SEL_CASWR = range(13)
N_SEL = 13
# selector -> (flags that must be set, flags that must be clear); exactly one command may match each
SELECTOR_RULES = {
    SEL_ACT: (F_OPENS, F_ALL_BANKS | F_PIM),        # only when the standard has no split activation
    SEL_ACT1: (F_OPEN_BEGIN, F_ALL_BANKS | F_PIM),
    SEL_ACT2: (F_OPENS, F_ALL_BANKS | F_PIM),       # only when it has one
    SEL_PRE: (F_CLOSES, F_ALL_BANKS | F_READ | F_WRITE | F_PIM),
    SEL_PREA: (F_CLOSES | F_ALL_BANKS, F_READ | F_WRITE | F_PIM),
    SEL_RD: (F_READ | F_DATA, F_CLOSES | F_ALL_BANKS | F_WCK_SYNC | F_PIM),
    SEL_WR: (F_WRITE | F_DATA, F_CLOSES | F_ALL_BANKS | F_WCK_SYNC | F_PIM),
    SEL_RDA: (F_READ | F_DATA | F_CLOSES, F_ALL_BANKS | F_WCK_SYNC | F_PIM),
    SEL_WRA: (F_WRITE | F_DATA | F_CLOSES, F_ALL_BANKS | F_WCK_SYNC | F_PIM),
    SEL_REFAB: (F_REFRESH | F_ALL_BANKS, F_PIM),
    SEL_REFPB: (F_REFRESH, F_ALL_BANKS | F_PIM),
    SEL_CASRD: (F_WCK_SYNC | F_READ, F_PIM),
    SEL_CASWR: (F_WCK_SYNC | F_WRITE, F_PIM),
}

# ---- run configuration (core.simulate's ``cfg``: one int64 vector) --------------------------------------
(K_READ_LATENCY, K_REFRESH_SCOPE, K_REFRESH_INTERVAL, K_PER_BANK_REFRESH, K_REFRESH_UNIT_LEVEL,
 K_AAD_CYCLES, K_WCK_ENABLED, K_WCK_READ_CYCLES, K_WCK_WRITE_CYCLES, K_N_BUSES,
 K_RQ_CAP, K_WQ_CAP, K_WRITE_HIGH, K_WRITE_LOW, K_REQUESTS_PER_CYCLE, K_LOG, K_MAX_CYCLES,
 K_OPEN_ROW_RULE, K_ROW_HIT_CAP, K_OLDEST_ONLY, K_COLUMN_FIRST,
 K_CLOSE_WITHOUT_HIT, K_CLOSE_AFTER, K_RUN_UNTIL) = range(24)
N_CFG = 24
# K_WRITE_HIGH: enter write mode when the write queue holds more than this many entries
# K_WRITE_LOW: leave it when the write queue holds fewer than this many (and reads wait)
# K_ROW_HIT_CAP, K_CLOSE_AFTER: -1 = off
# K_RUN_UNTIL: the cycle loop goes on (refreshing) until this frontend cycle even when every request has retired
# (0 in a plain run; a channel replayed on its own runs on to the last cycle of the others, see dram.channels)

# ---- per-channel state: chan[ch, C_*] ------------------------------------------------------------------
# C_N_READ .. C_N_ACTIVATING are the fill counts of the buffers BUF_READ .. BUF_ACTIVATING (same index)
BUF_READ, BUF_WRITE, BUF_ACTIVE, BUF_ACTIVATING = range(4)
N_BUF = 4
C_N_READ, C_N_WRITE, C_N_ACTIVE, C_N_ACTIVATING = range(4)
C_N_PRIORITY = 4       # entries in the priority (refresh) buffer
C_WRITE_MODE = 5       # 1 while the write buffer is served
C_WCK_EXPIRY = 6       # first cycle at which WCK is idle again (LPDDR5)
C_CAS_REQ = 7          # request whose RD/WR follows the CAS just issued (-1: none)
C_CAS_BUF = 8          # its buffer
C_NEXT_REF = 9         # cycle the next refresh falls due
C_REF_RR = 10          # per-bank refresh: next bank of each refresh unit (round robin)
C_TIMING_EPOCH = 11    # timing-state updates so far (the per-bank ready-cycle memo is valid for one)
C_WQ_VERSION = 12      # changes of the write queue's contents so far
C_FWD_REQ = 13         # the last request checked against the write queue (forwarding), -1 none ...
C_FWD_VERSION = 14     # ... at this C_WQ_VERSION ...
C_FWD_HIT = 15         # ... and the answer (1: a write to its line waits)
C_BOUND_MIN = 16       # chan[ch, C_BOUND_MIN + q] (q: read / write buffer): a lower bound of the ready cycles of
                       # its eligible bank groups; while it lies ahead no entry of the buffer can issue (0: unknown)
C_N_BANKS_QUEUED = 18  # chan[ch, C_N_BANKS_QUEUED + q]: banks with entries in the read / write buffer
C_ACTIVE_BOUND = 20    # a lower bound of the ready cycles of the active buffer's entries (0: unknown); while it
                       # lies ahead none can issue (their rows cannot close, so their commands do not change)
N_CHAN = 21

# ---- per-bank state: bank[ch, b, BK_*] (b: bank index within the channel) -----------------------------
BK_CLOSED, BK_ACTIVATING, BK_OPEN = 0, 1, 2     # BK_STATE values
BK_STATE = 0           # BK_CLOSED / BK_ACTIVATING (ACT1 issued) / BK_OPEN
BK_ROW = 1             # open (or opening) row
BK_EPOCH = 2           # state changes so far (a request's cached next command is valid for one epoch)
BK_STREAK = 3          # column accesses since the activation
BK_ACTIVE_REQS = 4     # requests in the active buffer that opened this bank's row
BK_ACT2_OWNER = 5      # 1 while a split activation of this bank waits for its ACT2
BK_ACT2_DEADLINE = 6   # cycle by which that ACT2 must issue (tAAD), -1 none
N_BANK = 7

# ---- bank groups of the read / write buffers: grp[ch, q, b, G_*] (q: BUF_READ / BUF_WRITE) --------------
# The buffer's entries to bank b, chained oldest first (link[r]: the next one, -1 none). All of them that hit
# the bank's open row share one next command (RD / WR), as do all the others (PRE, or ACT while it is closed),
# and with it one ready cycle and one eligibility: the scheduler visits these two groups, not each entry.
G_HEAD = 0             # the oldest entry to bank b (-1: none)
G_TAIL = 1             # the youngest
G_HIT = 2              # the oldest that hits the bank's open row (-1: none, or the bank is not open)
G_OTHER = 3            # the oldest of the others (-1: none)
G_EPOCH = 4            # BK_EPOCH at which G_HIT / G_OTHER were found (found again from the chain once it changed)
G_SLOT = 5             # position k of b in the list of banks with entries, qbanks[ch, q, k] (-1: none)
N_GRP = 6
# the banks with entries in the read / write buffer, in no order: qbanks[ch, q, k, QB_*], k < chan[ch, C_N_BANKS_QUEUED + q]
QB_BANK = 0            # the bank
QB_BOUND = 1           # a lower bound of the ready cycles of its eligible groups (0: unknown, BIG: none eligible
                       # until its state, its entries or the activations in flight change)
# while QB_BOUND is not 0 nothing that decides the bank's groups has changed since they were last found, so the
# slot keeps them: per group (QB_HIT_* the row hits, QB_OTHER_* the others) its oldest entry if the group is
# eligible (else -1) and its command; a visit then needs only their ready cycles (see core._scan_groups)
# (layout relied on by core._group_record / _scan_groups: a group's command follows its request, and the
# other group's pair follows the hits' pair)
QB_HIT_REQ = 2
QB_HIT_CMD = 3
QB_OTHER_REQ = 4
QB_OTHER_CMD = 5
N_QB = 6

# ---- statistics: stats[ch, S_*] ---------------------------------------------------------------------------
(S_ROW_HITS, S_ROW_MISSES, S_ROW_CONFLICTS, S_READ_HITS, S_READ_MISSES, S_READ_CONFLICTS, S_REFRESHES,
 S_FORWARDED_READS, S_COALESCED_WRITES, S_SUM_READ_LATENCY, S_READS_DONE, S_EVALUATED_CYCLES,
 S_SCANNED_ENTRIES) = range(13)
N_STATS = 13       # S_EVALUATED_CYCLES, S_SCANNED_ENTRIES: in the channel 0 row (dram.channels: also each channel's own)
# S_SCANNED_ENTRIES: active-buffer entries, read/write entries (frfcfs-cap, fcfs) or bank groups (G_*) visited

PRIORITY_DEPTH = 64     # refresh requests a channel may hold pending
BIG_CYCLE = 1 << 62     # "never" (cycles)

# ---- per rank (level-1 node) open-bank accounting for background energy: rank_open[ch, r1, RO_*] -------
RO_OPEN_BANKS = 0      # banks open now
RO_SINCE = 1           # cycle the first of them opened
RO_CYCLES = 2          # cycles with at least one bank open so far
N_RANK_OPEN = 3
