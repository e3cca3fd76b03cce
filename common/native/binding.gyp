{
  "targets": [
    {
      "target_name": "hush_sys",
      "sources": ["sys.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
