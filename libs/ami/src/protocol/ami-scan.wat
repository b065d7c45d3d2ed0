;; The AMI line scanner: finds the lines of whole packets and the header names it has been taught,
;; so that the decoder (ami-decoder.ts) only cuts strings. WebAssembly with 128-bit SIMD: 16 bytes
;; are looked at in one instruction for LF, ':' and bytes over 0x7f (32 a step).
;;
;; Compiled to ami-scan.wasm.ts by `npm run build:wasm` (scripts/build-wasm.mjs, wabt); a test
;; checks that the compiled copy is this source's.
;;
;; Memory (addresses in bytes):
;;   [0, 512)          masks: mask n (n = 0..16) at 16 n, bytes below n are 0xFF, the rest 0
;;                     (written by the decoder when the instance is made)
;;   [512, 66048)      name cache: 2048 sets of 2 slots {length, name address, id + 1, 0}, 16 bytes
;;                     each; a set is chosen by a hash of the name (slot length 0: empty)
;;   [66048, 98816)    names: 512 x 64 bytes, zero padded (id n at 66048 + 64 n)
;;   [98816, 147968)   line records: 2048 x 6 i32 (below)
;;   [196608, ...)     the input, then 32 zero bytes (the memory grows to fit it)
;;
;; A line record: start, name end (-1: no `name:` in the line, -2: an empty line, the end of a
;; packet), value start, end (without CR), flags (1: a byte over 0x7f in the line, 3: in the name),
;; name id (-1: not known); positions count from the input's first byte. Semantics: see parseText
;; in ami-decoder.ts (between packets CR and LF bytes are skipped; a line ends at LF, one CR before
;; it is dropped; the name is before the first ':' when that is after the line's first byte and
;; before its end, with spaces before the ':' dropped; the value starts after the ':' and any
;; spaces and tabs).
(module
  (memory (export "memory") 4)
  ;; Where the next scan starts, and whether a packet starts there (between packets).
  (global $resume (export "resume") (mut i32) (i32.const 0))
  (global $atStart (export "atStart") (mut i32) (i32.const 1))

  ;; Whether the name at [at, at + len) (16 < len <= 64) equals the zero-padded one at addr.
  (func $sameLong (param $at i32) (param $len i32) (param $addr i32) (result i32)
    (local $i i32)
    (block $last
      (loop $blocks
        (br_if $last (i32.ge_u (i32.add (local.get $i) (i32.const 16)) (local.get $len)))
        (if (i32.eqz (i8x16.all_true (i8x16.eq
              (v128.load align=1 (i32.add (local.get $at) (local.get $i)))
              (v128.load (i32.add (local.get $addr) (local.get $i))))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $blocks)))
    (i8x16.all_true (i8x16.eq
      (v128.and (v128.load align=1 (i32.add (local.get $at) (local.get $i)))
                (v128.load (i32.shl (i32.sub (local.get $len) (local.get $i)) (i32.const 4))))
      (v128.load (i32.add (local.get $addr) (local.get $i))))))

  ;; The address of the cache set for the name at [at, at + len) (1 <= len <= 64).
  (func $set (param $at i32) (param $len i32) (result i32)
    (local $w i64)
    (local.set $w (i64.load align=1 (local.get $at)))
    (if (i32.lt_u (local.get $len) (i32.const 8))
      (then
        (local.set $w (i64.and (local.get $w)
          (i64.shr_u (i64.const -1)
            (i64.extend_i32_u (i32.sub (i32.const 64) (i32.shl (local.get $len) (i32.const 3))))))))
      (else
        (local.set $w (i64.xor (local.get $w)
          (i64.mul (i64.load align=1 (i32.sub (i32.add (local.get $at) (local.get $len)) (i32.const 8)))
                   (i64.const 0xC2B2AE3D27D4EB4F))))))
    (i32.add (i32.const 512)
      (i32.shl
        (i32.wrap_i64 (i64.shr_u
          (i64.mul (i64.xor (local.get $w) (i64.extend_i32_u (local.get $len)))
                   (i64.const 0x9E3779B97F4A7C15))
          (i64.const 53)))
        (i32.const 5))))

  ;; Teaches the name at [at, at + len) (addresses) as id (0..511): 1, or 0 when it cannot be (length 0 or
  ;; over 64, id out of range). A cache: the first slot of its set when free, else the second
  ;; (a name pushed out is taught again by the decoder when it meets it).
  (func (export "addName") (param $at i32) (param $len i32) (param $id i32) (result i32)
    (local $set i32) (local $slot i32) (local $addr i32)
    (if (i32.or (i32.gt_u (i32.sub (local.get $len) (i32.const 1)) (i32.const 63))
                (i32.ge_u (local.get $id) (i32.const 512)))
      (then (return (i32.const 0))))
    (local.set $addr (i32.add (i32.const 66048) (i32.shl (local.get $id) (i32.const 6))))
    (memory.fill (local.get $addr) (i32.const 0) (i32.const 64))
    (memory.copy (local.get $addr) (local.get $at) (local.get $len))
    (local.set $set (call $set (local.get $at) (local.get $len)))
    (local.set $slot
      (select (local.get $set) (i32.add (local.get $set) (i32.const 16))
        (i32.eqz (i32.load (local.get $set)))))
    (i32.store (local.get $slot) (local.get $len))
    (i32.store offset=4 (local.get $slot) (local.get $addr))
    (i32.store offset=8 (local.get $slot) (i32.add (local.get $id) (i32.const 1)))
    (i32.const 1))

  ;; scan(end, max): records for the lines of [resume, end) at 98816, at most max (<= 2048) of
  ;; them; returns how many. The bytes from end on must be zero for 32 bytes. resume and atStart
  ;; are left where the next call goes on.
  (func (export "scan") (param $end i32) (param $max i32) (result i32)
    (local $pos i32) (local $start i32) (local $n i32) (local $rec i32)
    (local $ls i32) (local $colon i32) (local $high i32) (local $p i32)
    (local $v v128) (local $v2 v128) (local $mHI i32) (local $mLF i32) (local $mCO i32) (local $t i32) (local $below i32)
    (local $lf i32) (local $le i32) (local $ke i32) (local $vs i32) (local $b i32)
    (local $fl i32) (local $i i32) (local $id i32) (local $kl i32) (local $w i64) (local $set i32)
    (local $addr i32)
    (local.set $pos (global.get $resume))
    (local.set $start (global.get $atStart))
    (local.set $rec (i32.const 98816))
    (block $done
      (loop $lines
        (br_if $done (i32.ge_u (local.get $pos) (local.get $end)))
        (br_if $done (i32.ge_u (local.get $n) (local.get $max)))
        ;; Between packets: CR and LF bytes are skipped.
        (if (local.get $start)
          (then
            (local.set $b (i32.load8_u (local.get $pos)))
            (if (i32.or (i32.eq (local.get $b) (i32.const 10)) (i32.eq (local.get $b) (i32.const 13)))
              (then
                (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
                (br $lines)))
            (local.set $start (i32.const 0))))
        (local.set $ls (local.get $pos))
        (local.set $colon (i32.const -1))
        (local.set $high (i32.const 0))
        (local.set $p (local.get $pos))
        ;; The line's LF (or end), its first ':' and whether a byte over 0x7f is before the LF.
        (block $found
          (loop $blocks
            (if (i32.ge_u (local.get $p) (local.get $end))
              (then (local.set $lf (local.get $end)) (br $found)))
            ;; 32 bytes a step (most lines fit): masks of LF, ':' and bytes over 0x7f.
            (local.set $v (v128.load align=1 (local.get $p)))
            (local.set $v2 (v128.load offset=16 align=1 (local.get $p)))
            (local.set $mLF (i32.or
              (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10))))
              (i32.shl (i8x16.bitmask (i8x16.eq (local.get $v2) (i8x16.splat (i32.const 10)))) (i32.const 16))))
            (local.set $mCO (i32.or
              (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 58))))
              (i32.shl (i8x16.bitmask (i8x16.eq (local.get $v2) (i8x16.splat (i32.const 58)))) (i32.const 16))))
            (local.set $mHI (i32.or (i8x16.bitmask (local.get $v))
              (i32.shl (i8x16.bitmask (local.get $v2)) (i32.const 16))))
            (if (i32.eqz (local.get $mLF))
              (then
                (if (i32.and (i32.lt_s (local.get $colon) (i32.const 0)) (i32.ne (local.get $mCO) (i32.const 0)))
                  (then (local.set $colon (i32.add (local.get $p) (i32.ctz (local.get $mCO))))))
                (local.set $high (i32.or (local.get $high) (local.get $mHI)))
                (local.set $p (i32.add (local.get $p) (i32.const 32)))
                (br $blocks)))
            (local.set $t (i32.ctz (local.get $mLF)))
            (local.set $below (i32.sub (i32.shl (i32.const 1) (local.get $t)) (i32.const 1)))
            (local.set $mCO (i32.and (local.get $mCO) (local.get $below)))
            (if (i32.and (i32.lt_s (local.get $colon) (i32.const 0)) (i32.ne (local.get $mCO) (i32.const 0)))
              (then (local.set $colon (i32.add (local.get $p) (i32.ctz (local.get $mCO))))))
            (local.set $high (i32.or (local.get $high) (i32.and (local.get $mHI) (local.get $below))))
            (local.set $lf (i32.add (local.get $p) (local.get $t)))
            (if (i32.gt_u (local.get $lf) (local.get $end)) (then (local.set $lf (local.get $end))))))
        (local.set $le (local.get $lf))
        (if (i32.gt_u (local.get $le) (local.get $ls))
          (then
            (if (i32.eq (i32.load8_u (i32.sub (local.get $le) (i32.const 1))) (i32.const 13))
              (then (local.set $le (i32.sub (local.get $le) (i32.const 1)))))))
        (local.set $fl (i32.ne (local.get $high) (i32.const 0)))
        (local.set $vs (local.get $ls))
        (local.set $id (i32.const -1))
        (if (i32.eq (local.get $le) (local.get $ls))
          (then
            ;; An empty line: the packet ends.
            (local.set $ke (i32.const -2))
            (local.set $start (i32.const 1)))
          (else
            (if (i32.and (i32.gt_s (local.get $colon) (local.get $ls)) (i32.lt_s (local.get $colon) (local.get $le)))
              (then
                (local.set $ke (local.get $colon))
                (block $trimmed
                  (loop $trim
                    (br_if $trimmed (i32.le_s (local.get $ke) (local.get $ls)))
                    (br_if $trimmed (i32.ne (i32.load8_u (i32.sub (local.get $ke) (i32.const 1))) (i32.const 32)))
                    (local.set $ke (i32.sub (local.get $ke) (i32.const 1)))
                    (br $trim)))
                (local.set $vs (i32.add (local.get $colon) (i32.const 1)))
                (block $skipped
                  (loop $skip
                    (br_if $skipped (i32.ge_s (local.get $vs) (local.get $le)))
                    (local.set $b (i32.load8_u (local.get $vs)))
                    (br_if $skipped (i32.and (i32.ne (local.get $b) (i32.const 32)) (i32.ne (local.get $b) (i32.const 9))))
                    (local.set $vs (i32.add (local.get $vs) (i32.const 1)))
                    (br $skip)))
                (if (local.get $fl)
                  (then
                    (local.set $i (local.get $ls))
                    (block $ascii
                      (loop $name
                        (br_if $ascii (i32.ge_s (local.get $i) (local.get $ke)))
                        (if (i32.ge_u (i32.load8_u (local.get $i)) (i32.const 128))
                          (then (local.set $fl (i32.const 3)) (br $ascii)))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $name)))))
                ;; The name's id, when the cache knows it (written out here: calls cost). Names
                ;; with bytes over 0x7f are never taught.
                (local.set $kl (i32.sub (local.get $ke) (local.get $ls)))
                (block $known
                  (br_if $known (i32.eq (local.get $fl) (i32.const 3)))
                  (br_if $known (i32.gt_u (i32.sub (local.get $kl) (i32.const 1)) (i32.const 63)))
                  (local.set $w (i64.load align=1 (local.get $ls)))
                  (if (i32.lt_u (local.get $kl) (i32.const 8))
                    (then
                      (local.set $w (i64.and (local.get $w)
                        (i64.shr_u (i64.const -1)
                          (i64.extend_i32_u (i32.sub (i32.const 64) (i32.shl (local.get $kl) (i32.const 3))))))))
                    (else
                      (local.set $w (i64.xor (local.get $w)
                        (i64.mul (i64.load align=1 (i32.sub (local.get $ke) (i32.const 8)))
                                 (i64.const 0xC2B2AE3D27D4EB4F))))))
                  (local.set $set (i32.add (i32.const 512)
                    (i32.shl
                      (i32.wrap_i64 (i64.shr_u
                        (i64.mul (i64.xor (local.get $w) (i64.extend_i32_u (local.get $kl)))
                                 (i64.const 0x9E3779B97F4A7C15))
                        (i64.const 53)))
                      (i32.const 5))))
                  (if (i32.eq (i32.load offset=0 (local.get $set)) (local.get $kl))
                    (then
                      (local.set $addr (i32.load offset=4 (local.get $set)))
                      (if (if (result i32) (i32.le_u (local.get $kl) (i32.const 16))
                            (then
                              (i8x16.all_true (i8x16.eq
                                (v128.and (v128.load align=1 (local.get $ls))
                                          (v128.load (i32.shl (local.get $kl) (i32.const 4))))
                                (v128.load (local.get $addr)))))
                            (else (call $sameLong (local.get $ls) (local.get $kl) (local.get $addr))))
                        (then
                          (local.set $id (i32.sub (i32.load offset=8 (local.get $set)) (i32.const 1)))
                          (br $known)))))
                  (if (i32.eq (i32.load offset=16 (local.get $set)) (local.get $kl))
                    (then
                      (local.set $addr (i32.load offset=20 (local.get $set)))
                      (if (if (result i32) (i32.le_u (local.get $kl) (i32.const 16))
                            (then
                              (i8x16.all_true (i8x16.eq
                                (v128.and (v128.load align=1 (local.get $ls))
                                          (v128.load (i32.shl (local.get $kl) (i32.const 4))))
                                (v128.load (local.get $addr)))))
                            (else (call $sameLong (local.get $ls) (local.get $kl) (local.get $addr))))
                        (then
                          (local.set $id (i32.sub (i32.load offset=24 (local.get $set)) (i32.const 1)))
                          (br $known)))))))
              (else (local.set $ke (i32.const -1))))))
        ;; Positions in the input (from its first byte), not addresses.
        (i32.store (local.get $rec) (i32.sub (local.get $ls) (i32.const 196608)))
        (i32.store offset=4 (local.get $rec)
          (select (i32.sub (local.get $ke) (i32.const 196608)) (local.get $ke) (i32.ge_s (local.get $ke) (i32.const 0))))
        (i32.store offset=8 (local.get $rec) (i32.sub (local.get $vs) (i32.const 196608)))
        (i32.store offset=12 (local.get $rec) (i32.sub (local.get $le) (i32.const 196608)))
        (i32.store offset=16 (local.get $rec) (local.get $fl))
        (i32.store offset=20 (local.get $rec) (local.get $id))
        (local.set $rec (i32.add (local.get $rec) (i32.const 24)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $pos (i32.add (local.get $lf) (i32.const 1)))
        (br $lines)))
    (global.set $resume (local.get $pos))
    (global.set $atStart (local.get $start))
    (local.get $n))
)
