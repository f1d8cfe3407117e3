"""The lecture notes' own code, transcribed faithfully (typos kept), so that the errata can run it
beside the correct version and show by experiment where it goes wrong."""
