"""The library use case: keeping the catalog in step with the folders.

`scan.py` is the whole scan (the CLI's and the admin's): `files.py` walks and probes (a pool of
processes) and upserts `media_files`; `catalog.py` says what each new file is (names, NFO, TMDB);
`enrich.py` fills in TMDB's details and an admin's fix match; `prefs.py` holds the admin's
preferences (library folders, TMDB key, transcode after a scan); `scan_runs.py` queues and runs the
admin's scans as RQ jobs. The readers and parsers they use are in `scanner/`.
"""
