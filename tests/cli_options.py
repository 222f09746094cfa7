"""What options each command has, from the three places that say it: the
sources' getopt tables (what is accepted), --help (what users are told), and
the man pages and bash completion, which check_man.py and
check_completion.py hold to --help."""
import re
import subprocess

# the subcommands with options, and the file whose getopt tables parse them
COMMAND_SOURCES = {"list": "src/cli/list.c", "trace": "src/cli/trace.c",
                   "top": "src/cli/top.c", "serve": "src/cli/serve.c",
                   "convert": "src/cli/capture.c"}
HELP = {"-h", "--help"}

# an option in prose: a dash or two, a letter, then word characters, dots and dashes;
# not inside a word or after '/', '+' or '-' (serve's "+NAME/-NAME")
_OPTION = re.compile(r"(?:(?<=^)|(?<=[\s\[(,|]))(--?[A-Za-z](?:[\w.-]*\w)?)", re.M)


def options_in(text):
    """The options a text names."""
    return set(_OPTION.findall(text))


def subcommands(main_c="src/cli/main.c"):
    """The subcommands in main.c's table, in order."""
    src = open(main_c).read()
    return re.findall(r'^\s*\{"(\w+)", cmd_\w+,', src, re.M)


def help_text(argv):
    """What a --help prints (socktop's -h exits 1, like the original)."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if r.returncode not in (0, 1) or not r.stdout:
        raise RuntimeError(f"{argv}: exit {r.returncode}, {r.stderr!r}")
    return r.stdout


def global_help_options(text):
    """socktap's own options: the "Options:" part of its usage (the rest are commands')."""
    m = re.search(r"^Options:\n(.*?)(?:\n\n|\Z)", text, re.M | re.S)
    return options_in(m.group(1)) if m else set()


def _filter_longopts(cli_h="src/cli/cli.h", with_arg=False):
    src = open(cli_h).read()
    m = re.search(r"#define FILTER_LONGOPTS((?:.*\\\n)*.*)", src)
    return _longopt_names(m.group(1), with_arg) if m else set()


def _longopt_names(block, with_arg=False):
    kinds = "required" if with_arg else "(?:no|required|optional)"
    return {"--" + n for n in re.findall(rf'"([\w.-]+)",\s*{kinds}_argument', block)}


def _short(optstring, with_arg=False):
    return {"-" + c for i, c in enumerate(optstring)
            if c.isalnum() and (not with_arg or optstring[i + 1:i + 2] == ":")}


def source_options(cmd, with_arg=False):
    """The options a subcommand's getopt_long call accepts (with_arg: those taking a value)."""
    src = open(COMMAND_SOURCES[cmd]).read()
    m = re.search(r'getopt_long\(argc, argv, "([^"]*)"', src)
    if not m:
        raise RuntimeError(f"{COMMAND_SOURCES[cmd]}: no getopt_long call")
    opts = _short(m.group(1), with_arg)
    # the table up to its {} sentinel
    block = re.search(r"longopts\[\] = \{(.*?)\{\},?\s*\};", src, re.S)
    if not block:
        raise RuntimeError(f"{COMMAND_SOURCES[cmd]}: no longopts table")
    opts |= _longopt_names(block.group(1), with_arg)
    if "FILTER_LONGOPTS" in block.group(1):
        opts |= _filter_longopts(with_arg=with_arg)
    return opts


def socktop_source_options(path="src/cli/socktop.c", with_arg=False):
    m = re.search(r'getopt\(argc, argv, "([^"]*)"', open(path).read())
    if not m:
        raise RuntimeError(f"{path}: no getopt call")
    return _short(m.group(1), with_arg)


def global_source_options(main_c="src/cli/main.c"):
    """The options main.c's dispatch compares words with."""
    return set(re.findall(r'strcmp\(argv\[i\], "(-[\w-]+)"\)', open(main_c).read()))
