"""The catalog: walk the library, probe each new or changed file once, store what ffprobe saw."""
