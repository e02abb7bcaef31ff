//! Threshold BLS (Feldman VSS, DKG, partial signature combination) and distributed validator clusters.
