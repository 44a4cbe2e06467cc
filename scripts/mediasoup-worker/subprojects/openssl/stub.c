/* Empty on purpose: see meson.build. */
typedef int vcall_stub_unused;
