// ReFusion: slot-level plan-and-infill decoding (filled in by its owner)
