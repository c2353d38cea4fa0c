/** The local learning rule registers itself here. */
export {};
