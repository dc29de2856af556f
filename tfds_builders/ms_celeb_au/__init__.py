"""ms_celeb_au: the paper's pre-training faces with OpenFace AU labels (manual download)."""
