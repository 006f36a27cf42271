# Selects the terminal and output file of one format:
#   call "plots/lib/output.gp" FMT      (FMT = png | svg)
# Writes OUT.png (pngcairo) or OUT.svg, WIDTH x HEIGHT pixels (default
# 1000 x 600), sans 11 pt, text not enhanced (names like sf_w8 print as is).
# A figure script draws itself once per format:
#   do for [FMT in "png svg"] { call "plots/lib/output.gp" FMT; ... plot ... }
if (!exists("WIDTH")) { WIDTH = 1000 }
if (!exists("HEIGHT")) { HEIGHT = 600 }
if (ARG1 eq "png") {
  set terminal pngcairo size WIDTH,HEIGHT font "sans,11" noenhanced background rgb "white"
  set output OUT . ".png"
} else {
  if (ARG1 eq "svg") {
    set terminal svg size WIDTH,HEIGHT font "sans,11" noenhanced background rgb "white"
    set output OUT . ".svg"
  } else {
    print "plots/lib/output.gp: unknown format " . ARG1
    exit status 2
  }
}
