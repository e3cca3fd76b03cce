{
  "targets": [
    {
      "target_name": "hush_sys",
      "sources": ["sys.c", "fdpass.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
