{
  "targets": [
    {
      "target_name": "hush_fs_native",
      "sources": ["umount.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
