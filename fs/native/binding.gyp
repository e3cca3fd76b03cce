{
  "conditions": [
    ["<!(pkg-config --exists fuse && echo 1 || echo 0) == 1", {
      "targets": [
        {
          "target_name": "hush_fs_engine",
          "sources": ["hushfs.c"],
          "cflags": ["-Wall", "-Wextra", "-O2", "<!@(pkg-config --cflags fuse)"],
          "libraries": ["<!@(pkg-config --libs fuse)"]
        }
      ]
    }, {
      "targets": []
    }]
  ]
}
