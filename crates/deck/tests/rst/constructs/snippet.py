# a comment
def answer():
    return 42
# end
