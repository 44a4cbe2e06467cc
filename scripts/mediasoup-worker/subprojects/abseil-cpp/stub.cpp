// Empty on purpose: see meson.build.
namespace vcall_stub {}
