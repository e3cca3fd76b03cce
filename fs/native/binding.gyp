{
  "conditions": [
    ["<!(pkg-config --exists fuse && echo 1 || echo 0) == 1", {
      "targets": [
        {
          "target_name": "hush_fs_engine",
          "sources": ["hushfs_napi.c", "hushfs_hl.c", "hushfs_ll.c", "hushfs_ids.c", "hushfs_tree.c", "hushfs_state.c", "hushfs_map.c"],
          "cflags": ["-Wall", "-Wextra", "-O2", "<!@(pkg-config --cflags fuse)"],
          "libraries": ["<!@(pkg-config --libs fuse)"]
        }
      ]
    }, {
      "targets": []
    }]
  ]
}
