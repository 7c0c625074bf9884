/**
 * What the submit scripts, the worker's line and the check of pass-through
 * arguments agree on about text that goes into a script.
 *
 * @module
 */

/** A line break: it would end a directive or the worker's shell line. */
export const LINE_BREAK_REGEXP = /[\r\n]/;

/** Whitespace: a `#PBS` word that holds some must be quoted. */
export const PBS_SPACE_REGEXP = /\s/;
