//! Safe wrappers over the few raw `blst` operations the threshold scheme needs: arithmetic in
//! the scalar field Fr (mod r), and point addition / scalar multiplication in G1 and G2.
//!
//! `blst`'s safe API covers signing and verification but not field arithmetic (Lagrange
//! coefficients, polynomial evaluation) nor arbitrary point multiplication, so this is the one
//! module of the crate allowed to call `unsafe` functions. Every call below passes pointers to
//! values owned by the caller's stack frame, of the exact `#[repr(C)]` types blst expects, and
//! every byte buffer has the fixed length blst reads (32 bytes for scalars, 48/96 bytes for
//! compressed G1/G2 points). Points read from bytes are checked on the curve and in the
//! prime-order subgroup before they can be used.
#![allow(unsafe_code)]

use blst::{
    BLST_ERROR, blst_fp, blst_fr, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine, blst_scalar,
};
use rand::RngCore;
use zeroize::Zeroize;

/// Bits of a scalar given to blst's point multiplication (r has 255 bits).
const SCALAR_BITS: usize = 255;

/// An element of the scalar field Fr of BLS12-381 (integers mod the group order r).
///
/// Secret values (key shares, polynomial coefficients) are held in this type; it is zeroized
/// on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Scalar(blst_fr);

impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scalar(..)")
    }
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        self.0.l.zeroize();
    }
}

impl Drop for Scalar {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for Scalar {}

impl Scalar {
    /// The additive identity.
    pub fn zero() -> Self {
        Self(blst_fr::default())
    }

    /// The scalar equal to the integer `v`.
    pub fn from_u64(v: u64) -> Self {
        let mut out = blst_fr::default();
        let limbs: [u64; 4] = [v, 0, 0, 0];
        // SAFETY: `out` is a valid blst_fr; `limbs` is the 4-limb array blst reads.
        unsafe { blst::blst_fr_from_uint64(&mut out, limbs.as_ptr()) };
        Self(out)
    }

    /// A uniformly random scalar (64 random bytes reduced mod r, so the bias is negligible).
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut wide = [0u8; 64];
        rng.fill_bytes(&mut wide);
        let mut s = blst_scalar::default();
        // SAFETY: `wide` is 64 readable bytes, `s` a valid output.
        unsafe { blst::blst_scalar_from_le_bytes(&mut s, wide.as_ptr(), wide.len()) };
        wide.zeroize();
        let out = Self::from_blst_scalar(&s);
        s.b.zeroize();
        out
    }

    /// A uniformly random non-zero scalar.
    pub fn random_nonzero<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        loop {
            let s = Self::random(rng);
            if !s.is_zero() {
                return s;
            }
        }
    }

    /// Parses a big-endian 32-byte integer; `None` unless it is strictly below r.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let mut s = blst_scalar::default();
        // SAFETY: `bytes` is 32 readable bytes, `s` a valid output.
        unsafe { blst::blst_scalar_from_bendian(&mut s, bytes.as_ptr()) };
        // SAFETY: `s` is a valid blst_scalar.
        let ok = unsafe { blst::blst_scalar_fr_check(&s) };
        let out = if ok { Some(Self::from_blst_scalar(&s)) } else { None };
        s.b.zeroize();
        out
    }

    /// The big-endian 32-byte encoding (the encoding of EIP-2335 secret keys).
    pub fn to_be_bytes(&self) -> [u8; 32] {
        let mut s = self.to_blst_scalar();
        let mut out = [0u8; 32];
        // SAFETY: `out` is 32 writable bytes, `s` a valid blst_scalar.
        unsafe { blst::blst_bendian_from_scalar(out.as_mut_ptr(), &s) };
        s.b.zeroize();
        out
    }

    /// True for the additive identity.
    pub fn is_zero(&self) -> bool {
        self.0 == blst_fr::default()
    }

    /// `self + other mod r`.
    pub fn add(&self, other: &Self) -> Self {
        let mut out = blst_fr::default();
        // SAFETY: all three are valid blst_fr values.
        unsafe { blst::blst_fr_add(&mut out, &self.0, &other.0) };
        Self(out)
    }

    /// `self - other mod r`.
    pub fn sub(&self, other: &Self) -> Self {
        let mut out = blst_fr::default();
        // SAFETY: all three are valid blst_fr values.
        unsafe { blst::blst_fr_sub(&mut out, &self.0, &other.0) };
        Self(out)
    }

    /// `self * other mod r`.
    pub fn mul(&self, other: &Self) -> Self {
        let mut out = blst_fr::default();
        // SAFETY: all three are valid blst_fr values.
        unsafe { blst::blst_fr_mul(&mut out, &self.0, &other.0) };
        Self(out)
    }

    /// The multiplicative inverse; `None` for zero.
    pub fn inverse(&self) -> Option<Self> {
        if self.is_zero() {
            return None;
        }
        let mut out = blst_fr::default();
        // SAFETY: both are valid blst_fr values; the input is non-zero.
        unsafe { blst::blst_fr_inverse(&mut out, &self.0) };
        Some(Self(out))
    }

    fn from_blst_scalar(s: &blst_scalar) -> Self {
        let mut out = blst_fr::default();
        // SAFETY: both are valid values of the declared types.
        unsafe { blst::blst_fr_from_scalar(&mut out, s) };
        Self(out)
    }

    fn to_blst_scalar(&self) -> blst_scalar {
        let mut s = blst_scalar::default();
        // SAFETY: both are valid values of the declared types.
        unsafe { blst::blst_scalar_from_fr(&mut s, &self.0) };
        s
    }
}

/// A point of G1 (the group of public keys), in projective coordinates.
#[derive(Clone, Copy, Debug)]
pub struct G1(blst_p1);

impl PartialEq for G1 {
    fn eq(&self, other: &Self) -> bool {
        // SAFETY: both are valid blst_p1 values.
        unsafe { blst::blst_p1_is_equal(&self.0, &other.0) }
    }
}

impl Eq for G1 {}

impl G1 {
    /// The point at infinity (neutral element).
    pub fn identity() -> Self {
        Self(blst_p1::default())
    }

    /// The standard generator.
    pub fn generator() -> Self {
        // SAFETY: blst returns a pointer to a static, initialised generator.
        Self(unsafe { *blst::blst_p1_generator() })
    }

    /// `s · G` for the generator G.
    pub fn mul_generator(s: &Scalar) -> Self {
        Self::generator().mul(s)
    }

    /// `s · self`.
    pub fn mul(&self, s: &Scalar) -> Self {
        let mut k = s.to_blst_scalar();
        let mut out = blst_p1::default();
        // SAFETY: `k.b` is 32 readable bytes holding a 255-bit little-endian scalar.
        unsafe { blst::blst_p1_mult(&mut out, &self.0, k.b.as_ptr(), SCALAR_BITS) };
        k.b.zeroize();
        Self(out)
    }

    /// `k · self` for a small (64-bit) public scalar, e.g. a batch-verification weight.
    pub fn mul_u64(&self, k: u64) -> Self {
        let b = k.to_le_bytes();
        let mut out = blst_p1::default();
        // SAFETY: `b` is 8 readable bytes holding a 64-bit little-endian scalar.
        unsafe { blst::blst_p1_mult(&mut out, &self.0, b.as_ptr(), 64) };
        Self(out)
    }

    /// `self + other` (handles doubling and infinity).
    pub fn add(&self, other: &Self) -> Self {
        let mut out = blst_p1::default();
        // SAFETY: all three are valid blst_p1 values.
        unsafe { blst::blst_p1_add_or_double(&mut out, &self.0, &other.0) };
        Self(out)
    }

    /// True for the point at infinity.
    pub fn is_identity(&self) -> bool {
        // SAFETY: valid blst_p1.
        unsafe { blst::blst_p1_is_inf(&self.0) }
    }

    /// The 48-byte compressed encoding (ZCash format, as Ethereum public keys).
    pub fn to_compressed(&self) -> [u8; 48] {
        let mut out = [0u8; 48];
        // SAFETY: `out` is 48 writable bytes.
        unsafe { blst::blst_p1_compress(out.as_mut_ptr(), &self.0) };
        out
    }

    /// Decodes a compressed point, checking it is on the curve and in the subgroup. The point
    /// at infinity is accepted here; callers that need a key reject it.
    pub fn from_compressed(bytes: &[u8; 48]) -> Option<Self> {
        let mut aff = blst_p1_affine::default();
        // SAFETY: `bytes` is 48 readable bytes, `aff` a valid output.
        let err = unsafe { blst::blst_p1_uncompress(&mut aff, bytes.as_ptr()) };
        if err != BLST_ERROR::BLST_SUCCESS {
            return None;
        }
        // SAFETY: `aff` was written by blst.
        if !unsafe { blst::blst_p1_affine_in_g1(&aff) } {
            return None;
        }
        Some(Self::from_affine(&aff))
    }

    /// Converts from blst's affine representation (as held by `blst::min_pk::PublicKey`).
    pub fn from_affine(aff: &blst_p1_affine) -> Self {
        let mut out = blst_p1::default();
        // SAFETY: both are valid values of the declared types.
        unsafe { blst::blst_p1_from_affine(&mut out, aff) };
        Self(out)
    }

    /// Converts to blst's affine representation.
    pub fn to_affine(&self) -> blst_p1_affine {
        let mut out = blst_p1_affine::default();
        // SAFETY: both are valid values of the declared types.
        unsafe { blst::blst_p1_to_affine(&mut out, &self.0) };
        out
    }
}

/// Affine coordinates of a G2 point as big-endian bytes: `((x.c0, x.c1), (y.c0, y.c1))`.
pub type G2Coordinates = (Fp2Bytes, Fp2Bytes);

/// An Fp2 element as big-endian bytes `(c0, c1)`.
pub type Fp2Bytes = ([u8; 48], [u8; 48]);

/// A point of G2 (the group of signatures), in projective coordinates.
#[derive(Clone, Copy, Debug)]
pub struct G2(blst_p2);

impl PartialEq for G2 {
    fn eq(&self, other: &Self) -> bool {
        // SAFETY: both are valid blst_p2 values.
        unsafe { blst::blst_p2_is_equal(&self.0, &other.0) }
    }
}

impl Eq for G2 {}

impl G2 {
    /// The point at infinity (neutral element).
    pub fn identity() -> Self {
        Self(blst_p2::default())
    }

    /// `s · self`.
    pub fn mul(&self, s: &Scalar) -> Self {
        let mut k = s.to_blst_scalar();
        let mut out = blst_p2::default();
        // SAFETY: `k.b` is 32 readable bytes holding a 255-bit little-endian scalar.
        unsafe { blst::blst_p2_mult(&mut out, &self.0, k.b.as_ptr(), SCALAR_BITS) };
        k.b.zeroize();
        Self(out)
    }

    /// `k · self` for a small (64-bit) public scalar, e.g. a batch-verification weight.
    pub fn mul_u64(&self, k: u64) -> Self {
        let b = k.to_le_bytes();
        let mut out = blst_p2::default();
        // SAFETY: `b` is 8 readable bytes holding a 64-bit little-endian scalar.
        unsafe { blst::blst_p2_mult(&mut out, &self.0, b.as_ptr(), 64) };
        Self(out)
    }

    /// `self + other` (handles doubling and infinity).
    pub fn add(&self, other: &Self) -> Self {
        let mut out = blst_p2::default();
        // SAFETY: all three are valid blst_p2 values.
        unsafe { blst::blst_p2_add_or_double(&mut out, &self.0, &other.0) };
        Self(out)
    }

    /// The 96-byte compressed encoding (as Ethereum signatures).
    pub fn to_compressed(&self) -> [u8; 96] {
        let mut out = [0u8; 96];
        // SAFETY: `out` is 96 writable bytes.
        unsafe { blst::blst_p2_compress(out.as_mut_ptr(), &self.0) };
        out
    }

    /// `Σ s_i · P_i` by Pippenger's multi-scalar multiplication (one thread). `None` if the
    /// lengths differ or the input is empty. Points at infinity contribute nothing and are
    /// skipped (blst's batch affine conversion does not accept them).
    pub fn multi_mul(points: &[G2], scalars: &[Scalar]) -> Option<Self> {
        if points.is_empty() || points.len() != scalars.len() {
            return None;
        }
        let (pts, ks): (Vec<blst_p2>, Vec<&Scalar>) = points
            .iter()
            .zip(scalars)
            .filter(|(p, _)| !p.is_identity())
            .map(|(p, k)| (p.0, k))
            .unzip();
        if pts.is_empty() {
            return Some(Self::identity());
        }
        let mut affines = vec![blst_p2_affine::default(); pts.len()];
        let mut kb: Vec<blst_scalar> = ks.iter().map(|k| k.to_blst_scalar()).collect();
        let mut out = blst_p2::default();
        // SAFETY: blst reads `pts.len()` contiguous points from the first pointer of a
        // null-terminated pointer array and writes as many affine points; the scalars are
        // `pts.len()` contiguous 32-byte blst_scalar values read the same way, 255 bits each;
        // the scratch buffer has the size blst asks for (in bytes, rounded up to u64 limbs).
        unsafe {
            let p: [*const blst_p2; 2] = [pts.as_ptr(), std::ptr::null()];
            blst::blst_p2s_to_affine(affines.as_mut_ptr(), p.as_ptr(), pts.len());
            let a: [*const blst_p2_affine; 2] = [affines.as_ptr(), std::ptr::null()];
            let k: [*const u8; 2] = [kb.as_ptr().cast::<u8>(), std::ptr::null()];
            let words = blst::blst_p2s_mult_pippenger_scratch_sizeof(pts.len()).div_ceil(8);
            let mut scratch = vec![0u64; words.max(1)];
            blst::blst_p2s_mult_pippenger(
                &mut out,
                a.as_ptr(),
                pts.len(),
                k.as_ptr(),
                SCALAR_BITS,
                scratch.as_mut_ptr(),
            );
        }
        for k in &mut kb {
            k.b.zeroize();
        }
        Some(Self(out))
    }

    /// True for the point at infinity.
    pub fn is_identity(&self) -> bool {
        // SAFETY: valid blst_p2.
        unsafe { blst::blst_p2_is_inf(&self.0) }
    }

    /// Hashes `msg` to G2 with the given domain separation tag (hash_to_curve, SSWU, RO).
    pub fn hash_to_curve(msg: &[u8], dst: &[u8]) -> Self {
        let mut out = blst_p2::default();
        // SAFETY: the slices are readable for their lengths; a null `aug` of length 0 is allowed.
        unsafe {
            blst::blst_hash_to_g2(
                &mut out,
                msg.as_ptr(),
                msg.len(),
                dst.as_ptr(),
                dst.len(),
                std::ptr::null(),
                0,
            );
        };
        Self(out)
    }

    /// Affine coordinates as big-endian bytes: `((x.c0, x.c1), (y.c0, y.c1))`.
    pub fn affine_coordinates(&self) -> G2Coordinates {
        let aff = self.to_affine();
        let fp = |v: &blst_fp| {
            let mut out = [0u8; 48];
            // SAFETY: `out` is 48 writable bytes; `v` a valid field element.
            unsafe { blst::blst_bendian_from_fp(out.as_mut_ptr(), v) };
            out
        };
        let [x0, x1] = &aff.x.fp;
        let [y0, y1] = &aff.y.fp;
        ((fp(x0), fp(x1)), (fp(y0), fp(y1)))
    }

    /// Converts from blst's affine representation (as held by `blst::min_pk::Signature`).
    pub fn from_affine(aff: &blst_p2_affine) -> Self {
        let mut out = blst_p2::default();
        // SAFETY: both are valid values of the declared types.
        unsafe { blst::blst_p2_from_affine(&mut out, aff) };
        Self(out)
    }

    /// Converts to blst's affine representation.
    pub fn to_affine(&self) -> blst_p2_affine {
        let mut out = blst_p2_affine::default();
        // SAFETY: both are valid values of the declared types.
        unsafe { blst::blst_p2_to_affine(&mut out, &self.0) };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_round_trips() {
        let mut rng = rand::thread_rng();
        let a = Scalar::random_nonzero(&mut rng);
        let b = Scalar::random(&mut rng);
        assert_eq!(a.add(&b).sub(&b), a);
        let inv = a.inverse().unwrap();
        assert_eq!(a.mul(&inv), Scalar::from_u64(1));
        assert_eq!(Scalar::from_be_bytes(&a.to_be_bytes()).unwrap(), a);
        assert!(Scalar::zero().inverse().is_none());
        assert_eq!(Scalar::from_u64(6), Scalar::from_u64(2).mul(&Scalar::from_u64(3)));
        // r itself is not a canonical scalar.
        let r = hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
            .unwrap();
        assert!(Scalar::from_be_bytes(&r.try_into().unwrap()).is_none());
    }

    #[test]
    fn point_arithmetic_is_linear() {
        let mut rng = rand::thread_rng();
        let a = Scalar::random(&mut rng);
        let b = Scalar::random(&mut rng);
        let lhs = G1::mul_generator(&a.add(&b));
        let rhs = G1::mul_generator(&a).add(&G1::mul_generator(&b));
        assert_eq!(lhs, rhs);
        assert_eq!(G1::from_compressed(&lhs.to_compressed()).unwrap(), lhs);
        let h = G2::hash_to_curve(b"m", b"dst");
        assert_eq!(h.mul(&a).add(&h.mul(&b)), h.mul(&a.add(&b)));
        let pts: Vec<G2> = (1..=9u64).map(|i| h.mul(&Scalar::from_u64(i))).collect();
        let ks: Vec<Scalar> = (0..9).map(|_| Scalar::random(&mut rng)).collect();
        let naive = pts.iter().zip(&ks).fold(G2::identity(), |acc, (p, k)| acc.add(&p.mul(k)));
        assert_eq!(G2::multi_mul(&pts, &ks).unwrap(), naive);
        let mut with_inf = pts;
        with_inf[3] = G2::identity();
        let naive_inf =
            with_inf.iter().zip(&ks).fold(G2::identity(), |acc, (p, k)| acc.add(&p.mul(k)));
        assert_eq!(G2::multi_mul(&with_inf, &ks).unwrap(), naive_inf);
        assert!(G2::multi_mul(&[], &[]).is_none());
        assert!(G2::multi_mul(&[G2::identity()], &[Scalar::from_u64(1)]).unwrap().is_identity());
        let k = 0xdead_beef_1234_5678u64;
        assert_eq!(h.mul_u64(k), h.mul(&Scalar::from_u64(k)));
        assert_eq!(lhs.mul_u64(k), lhs.mul(&Scalar::from_u64(k)));
        assert!(G1::identity().is_identity());
        assert_eq!(G1::identity().add(&lhs), lhs);
        assert_eq!(G2::identity().add(&h), h);
    }
}
