/**
 * Owns `ownString`: a copy of a packet's value that can be kept for long. The AMI decoder's values
 * are slices of a whole socket read (up to 64 KiB); a value kept for the life of a call, a queue
 * member or a parked call would pin that whole read in memory (issue 16: 35 MiB of reads held by
 * queue members' interfaces after ten minutes of calls).
 */
export function ownString(s: string): string {
  // V8 copies strings under 13 characters when slicing; longer ones need a flat copy of their own.
  return s.length < 13 ? s : (' ' + s).slice(1);
}
