/** Baseline neurons register here (QLIF, LIF, probabilistic). */
export {};
