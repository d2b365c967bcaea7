"""mox-nets-mobile: MobileNet v1/v2 and NASNet/PNASNet networks for mox (TF-Slim names)."""
